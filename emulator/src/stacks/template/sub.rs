//! The `Fn::Sub` string: text, `${Name}` variables (`${Resource.Attribute}` among them) and `${!Literal}`,
//! which stands for the text `${Literal}`.

/// One piece of an `Fn::Sub` string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SubPart<'a> {
    Text(String),
    Variable(&'a str),
}

/// Splits an `Fn::Sub` string into its text and variables. A `${` without a closing `}` is text.
pub(super) fn parse_sub(template: &str) -> Vec<SubPart<'_>> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        let Some(length) = rest[start + 2..].find('}') else {
            break;
        };
        text.push_str(&rest[..start]);
        let inside = &rest[start + 2..start + 2 + length];
        match inside.strip_prefix('!') {
            Some(literal) => {
                text.push_str("${");
                text.push_str(literal);
                text.push('}');
            }
            None if inside.trim().is_empty() => text.push_str("${}"),
            None => {
                if !text.is_empty() {
                    parts.push(SubPart::Text(std::mem::take(&mut text)));
                }
                parts.push(SubPart::Variable(inside.trim()));
            }
        }
        rest = &rest[start + 2 + length + 1..];
    }
    text.push_str(rest);
    if !text.is_empty() {
        parts.push(SubPart::Text(text));
    }
    parts
}

/// The variables of an `Fn::Sub` string.
pub(super) fn sub_variables(template: &str) -> impl Iterator<Item = &str> {
    parse_sub(template).into_iter().filter_map(|part| match part {
        SubPart::Variable(name) => Some(name),
        SubPart::Text(_) => None,
    })
}

#[cfg(test)]
mod tests {
    use super::SubPart::{Text, Variable};
    use super::*;

    #[test]
    fn variables_literals_and_text_are_told_apart() {
        assert_eq!(
            parse_sub("arn:${AWS::Partition}:s3:::${Bucket}/${!NotAVar}-${ Role.Arn }"),
            [
                Text("arn:".into()),
                Variable("AWS::Partition"),
                Text(":s3:::".into()),
                Variable("Bucket"),
                Text("/${NotAVar}-".into()),
                Variable("Role.Arn"),
            ]
        );
        assert_eq!(parse_sub("no variables"), [Text("no variables".into())]);
        assert_eq!(parse_sub("open ${end"), [Text("open ${end".into())]);
        assert_eq!(parse_sub("$5 and ${}"), [Text("$5 and ${}".into())]);
        assert_eq!(parse_sub(""), []);
    }
}
