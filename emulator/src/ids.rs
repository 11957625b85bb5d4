//! Identifiers and secrets in AWS's formats, and the pieces of a role ARN.

use rand::Rng;

/// A random version-4 UUID in its usual text form.
pub(crate) fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// `a-` and 17 random lower-case alphanumerics, like EKS's association ids.
pub(crate) fn new_association_id() -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    format!("a-{}", random_chars(CHARS, 17))
}

/// 32 upper-case hex digits, like the id in an EKS cluster's endpoint and OIDC issuer.
pub(crate) fn new_cluster_id() -> String {
    random_chars(b"0123456789ABCDEF", 32)
}

/// `{prefix}-` and 17 lower-case hex digits, like EC2's VPC, subnet and security group ids.
pub(crate) fn new_ec2_id(prefix: &str) -> String {
    format!("{prefix}-{}", random_chars(b"0123456789abcdef", 17))
}

/// Characters of AWS key ids: upper-case letters and digits 2–7.
const KEY_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// `AKIA…`: a new access key id of a user (20 characters).
pub(crate) fn new_user_key_id() -> String {
    format!("AKIA{}", random_chars(KEY_CHARS, 16))
}

/// `ASIA…`: a new access key id of temporary credentials (20 characters).
pub(crate) fn new_session_key_id() -> String {
    format!("ASIA{}", random_chars(KEY_CHARS, 16))
}

/// A 40-character secret access key.
pub(crate) fn new_secret() -> String {
    random_chars(SECRET_CHARS, 40)
}

/// Looks like STS's session tokens (which are opaque base64).
pub(crate) fn new_session_token() -> String {
    format!("IQoJb3JpZ2luX2VjE{}", random_chars(SECRET_CHARS, 320))
}

/// `AIDA…`: the unique id of a user, the same on every run.
pub(crate) fn user_id(account_id: &str, user_name: &str) -> String {
    format!("AIDA{}", stable_key_chars(&format!("{account_id}/{user_name}"), 17))
}

/// `AROA…`: a new unique role id.
pub(crate) fn new_role_id() -> String {
    format!("AROA{}", random_chars(KEY_CHARS, 17))
}

/// `ANPA…`: a new unique id of a managed policy.
pub(crate) fn new_policy_id() -> String {
    format!("ANPA{}", random_chars(KEY_CHARS, 17))
}

/// `ANPA…` derived from a policy ARN, for the AWS managed policies.
pub(crate) fn stable_policy_id(policy_arn: &str) -> String {
    format!("ANPA{}", stable_key_chars(policy_arn, 17))
}

/// `AROA…` derived from a role ARN, for roles that the registry does not know.
pub(crate) fn stable_role_id(role_arn: &str) -> String {
    format!("AROA{}", stable_key_chars(role_arn, 17))
}

/// The account and role name (without path) of a role ARN `arn:P:iam::ACCOUNT:role/PATH/NAME`; empty
/// strings for parts that are missing.
pub(crate) fn role_account_and_name(role_arn: &str) -> (&str, &str) {
    let Some(parts) = pia_core::arn::ArnParts::split(role_arn) else {
        return ("", "");
    };
    (parts.account, parts.resource.rsplit('/').next().unwrap_or(""))
}

fn random_chars(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

/// `len` key characters derived from `seed` (FNV-1a, re-seeded per character).
fn stable_key_chars(seed: &str, len: usize) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in seed.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (0..len)
        .map(|i| {
            hash ^= i as u64;
            hash = hash.wrapping_mul(0x0100_0000_01b3);
            KEY_CHARS[((hash >> 33) % KEY_CHARS.len() as u64) as usize] as char
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_look_like_eks_ids() {
        for _ in 0..100 {
            let id = new_association_id();
            assert_eq!(id.len(), 19);
            assert!(id.starts_with("a-"));
            assert!(
                id[2..].chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
                "{id}"
            );
        }
        assert_ne!(new_association_id(), new_association_id());
        let uuid = new_uuid();
        assert_eq!(uuid.len(), 36);
        assert_eq!(&uuid[14..15], "4");
        assert_eq!(uuid.matches('-').count(), 4);
        let cluster = new_cluster_id();
        assert_eq!(cluster.len(), 32);
        assert!(cluster.chars().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
    }

    #[test]
    fn keys_look_like_aws_keys() {
        assert!(new_user_key_id().starts_with("AKIA") && new_user_key_id().len() == 20);
        assert!(new_session_key_id().starts_with("ASIA") && new_session_key_id().len() == 20);
        assert_eq!(new_secret().len(), 40);
        assert_eq!(user_id("444455556666", "bob"), user_id("444455556666", "bob"));
        assert_ne!(user_id("444455556666", "alice"), user_id("444455556666", "bob"));
        assert_eq!(
            role_account_and_name("arn:aws:iam::111122223333:role/team/app"),
            ("111122223333", "app")
        );
    }
}
