//! Association ARNs are [`pia_core::AssociationArn`]; what the handlers add is finding an id in EKS's messages.

pub use pia_core::arn::{ArnError, AssociationArn, is_association_id};

/// The first association id in a text, such as EKS's "Association already exists: a-0123456789abcdefg".
pub fn find_association_id(text: &str) -> Option<&str> {
    text.match_indices("a-").map(|(at, _)| &text[at..]).find_map(|rest| {
        let id = rest.get(..19)?;
        let next_is_word = rest[19..].bytes().next().is_some_and(|b| b.is_ascii_alphanumeric());
        (is_association_id(id) && !next_is_word).then_some(id)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_existing_id_in_a_conflict_message() {
        assert_eq!(
            find_association_id("Association already exists: a-0123456789abcdefg"),
            Some("a-0123456789abcdefg")
        );
        assert_eq!(find_association_id("data-plane a-0123456789abcdefgh"), None);
        assert_eq!(find_association_id("no id here"), None);
        assert_eq!(find_association_id("a-ééééééééééééééééé"), None);
    }
}
