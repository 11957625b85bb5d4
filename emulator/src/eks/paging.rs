//! EKS's list paging: `maxResults` (1 to 100) and an opaque `nextToken` that names where the last page ended, with a
//! check so that garbage, and a token of another list, are refused.

use super::error::ApiError;
use super::extract::QueryPairs;
use super::validate::MAX_RESULTS;

/// The page size a list asks for: `maxResults`, 100 when absent.
pub(super) fn max_results(query: &QueryPairs) -> Result<usize, ApiError> {
    let Some(text) = query.get("maxResults") else {
        return Ok(MAX_RESULTS as usize);
    };
    match text.parse::<i64>() {
        Ok(n) if (1..=MAX_RESULTS).contains(&n) => Ok(n as usize),
        _ => Err(ApiError::invalid_parameter(format!(
            "maxResults must be between 1 and {MAX_RESULTS} (got {text})."
        ))),
    }
}

/// The token of the page after `position` in the list `list` (a cluster's associations, the clusters).
pub(super) fn encode_token(list: &str, position: &str) -> String {
    let hex: String = position.bytes().map(|b| format!("{b:02x}")).collect();
    format!("{hex}.{:08x}", token_check(list, position))
}

/// The position a token of `list` names, or None for anything this list did not hand out.
pub(super) fn decode_token(list: &str, token: &str) -> Option<String> {
    let (hex, check) = token.split_once('.')?;
    if hex.len() % 2 != 0 || check.len() != 8 {
        return None;
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(hex.get(at..at + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    let position = String::from_utf8(bytes).ok()?;
    (u32::from_str_radix(check, 16).ok()? == token_check(list, &position)).then_some(position)
}

/// FNV-1a over the list and the position.
fn token_check(list: &str, position: &str) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in list.bytes().chain([0]).chain(position.bytes()).chain(*b"pia-list") {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_garbage() {
        let token = encode_token("demo", "41");
        assert_eq!(decode_token("demo", &token).as_deref(), Some("41"));
        assert_eq!(decode_token("other", &token), None);
        for bad in [
            "",
            "41",
            "29.",
            "zz.00000000",
            "3.00000000",
            "3g.00000000",
            "34.0000000g",
        ] {
            assert_eq!(decode_token("demo", bad), None, "{bad}");
        }
    }
}
