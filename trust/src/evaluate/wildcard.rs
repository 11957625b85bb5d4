//! The `*` and `?` wildcards of actions, resources, `StringLike` and `ArnLike`.

/// `*` matches any run of characters (none included), `?` any one character; everything else literally.
/// Linear-time two-pointer matching with one backtrack point, so hostile patterns cannot blow up.
pub(super) fn wildcard_match(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                backtrack = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match backtrack {
                // Let the last `*` swallow one more character and retry from there.
                Some((star, consumed)) => {
                    p = star + 1;
                    t = consumed + 1;
                    backtrack = Some((star, consumed + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        for (pattern, text, expected) in [
            ("*", "", true),
            ("*", "anything", true),
            ("sts:*", "sts:AssumeRole", true),
            ("sts:Assume*", "sts:AssumeRoleWithWebIdentity", true),
            ("sts:?ssumeRole", "sts:AssumeRole", true),
            ("sts:AssumeRole", "sts:AssumeRoleX", false),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false),
            ("", "", true),
            ("", "x", false),
            ("?", "", false),
            ("é?", "éé", true),
        ] {
            assert_eq!(wildcard_match(pattern, text), expected, "{pattern} vs {text}");
        }
    }
}
