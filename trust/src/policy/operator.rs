//! Condition operators: `[ForAnyValue:|ForAllValues:]Kind[IfExists]`, read without regard to case and written
//! canonically.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// `ForAnyValue:` / `ForAllValues:`, for context keys with several values such as `aws:TagKeys`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetQualifier {
    ForAnyValue,
    ForAllValues,
}

/// The comparison of a condition operator, without its qualifier or `IfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperatorKind {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

impl OperatorKind {
    const ALL: [Self; 27] = [
        Self::StringEquals,
        Self::StringNotEquals,
        Self::StringEqualsIgnoreCase,
        Self::StringNotEqualsIgnoreCase,
        Self::StringLike,
        Self::StringNotLike,
        Self::NumericEquals,
        Self::NumericNotEquals,
        Self::NumericLessThan,
        Self::NumericLessThanEquals,
        Self::NumericGreaterThan,
        Self::NumericGreaterThanEquals,
        Self::DateEquals,
        Self::DateNotEquals,
        Self::DateLessThan,
        Self::DateLessThanEquals,
        Self::DateGreaterThan,
        Self::DateGreaterThanEquals,
        Self::Bool,
        Self::BinaryEquals,
        Self::IpAddress,
        Self::NotIpAddress,
        Self::ArnEquals,
        Self::ArnLike,
        Self::ArnNotEquals,
        Self::ArnNotLike,
        Self::Null,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::StringEquals => "StringEquals",
            Self::StringNotEquals => "StringNotEquals",
            Self::StringEqualsIgnoreCase => "StringEqualsIgnoreCase",
            Self::StringNotEqualsIgnoreCase => "StringNotEqualsIgnoreCase",
            Self::StringLike => "StringLike",
            Self::StringNotLike => "StringNotLike",
            Self::NumericEquals => "NumericEquals",
            Self::NumericNotEquals => "NumericNotEquals",
            Self::NumericLessThan => "NumericLessThan",
            Self::NumericLessThanEquals => "NumericLessThanEquals",
            Self::NumericGreaterThan => "NumericGreaterThan",
            Self::NumericGreaterThanEquals => "NumericGreaterThanEquals",
            Self::DateEquals => "DateEquals",
            Self::DateNotEquals => "DateNotEquals",
            Self::DateLessThan => "DateLessThan",
            Self::DateLessThanEquals => "DateLessThanEquals",
            Self::DateGreaterThan => "DateGreaterThan",
            Self::DateGreaterThanEquals => "DateGreaterThanEquals",
            Self::Bool => "Bool",
            Self::BinaryEquals => "BinaryEquals",
            Self::IpAddress => "IpAddress",
            Self::NotIpAddress => "NotIpAddress",
            Self::ArnEquals => "ArnEquals",
            Self::ArnLike => "ArnLike",
            Self::ArnNotEquals => "ArnNotEquals",
            Self::ArnNotLike => "ArnNotLike",
            Self::Null => "Null",
        }
    }

    /// The "does not match" operators: they hold when the key is absent, and their values are NORed.
    pub fn is_negated(self) -> bool {
        matches!(
            self,
            Self::StringNotEquals
                | Self::StringNotEqualsIgnoreCase
                | Self::StringNotLike
                | Self::NumericNotEquals
                | Self::DateNotEquals
                | Self::NotIpAddress
                | Self::ArnNotEquals
                | Self::ArnNotLike
        )
    }
}

/// A condition operator as written: `[ForAnyValue:|ForAllValues:]Kind[IfExists]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConditionOperator {
    pub qualifier: Option<SetQualifier>,
    pub kind: OperatorKind,
    /// The condition also holds when the key is absent from the request.
    pub if_exists: bool,
}

impl ConditionOperator {
    pub const fn new(kind: OperatorKind) -> Self {
        Self {
            qualifier: None,
            kind,
            if_exists: false,
        }
    }
}

impl fmt::Display for ConditionOperator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.qualifier {
            Some(SetQualifier::ForAnyValue) => f.write_str("ForAnyValue:")?,
            Some(SetQualifier::ForAllValues) => f.write_str("ForAllValues:")?,
            None => {}
        }
        f.write_str(self.kind.as_str())?;
        if self.if_exists {
            f.write_str("IfExists")?;
        }
        Ok(())
    }
}

/// A condition operator name that is not one (`StringEqualz`, `NullIfExists`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{problem}")]
pub struct OperatorError {
    problem: String,
}

impl FromStr for ConditionOperator {
    type Err = OperatorError;

    /// Operator names are matched without regard to case (leniently: a checker should rather read a policy IAM
    /// may accept than refuse it); they are written back canonically.
    fn from_str(text: &str) -> Result<Self, OperatorError> {
        let unknown = || OperatorError {
            problem: format!("unknown condition operator {text:?}"),
        };
        let (qualifier, rest) = match text.split_once(':') {
            Some((prefix, rest)) if prefix.eq_ignore_ascii_case("ForAnyValue") => {
                (Some(SetQualifier::ForAnyValue), rest)
            }
            Some((prefix, rest)) if prefix.eq_ignore_ascii_case("ForAllValues") => {
                (Some(SetQualifier::ForAllValues), rest)
            }
            Some(_) => return Err(unknown()),
            None => (None, text),
        };
        let lower = rest.to_ascii_lowercase();
        let (if_exists, base) = match lower.strip_suffix("ifexists") {
            Some(base) => (true, base),
            None => (false, lower.as_str()),
        };
        let kind = OperatorKind::ALL
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(base))
            .ok_or_else(unknown)?;
        if kind == OperatorKind::Null && if_exists {
            return Err(OperatorError {
                problem: format!("{text:?}: Null tests whether the key exists, so it takes no IfExists"),
            });
        }
        Ok(Self {
            qualifier,
            kind,
            if_exists,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_parse_without_regard_to_case_and_print_canonically() {
        let operator: ConditionOperator = "forallvalues:stringlikeifexists".parse().unwrap();
        assert_eq!(operator.to_string(), "ForAllValues:StringLikeIfExists");
        for kind in OperatorKind::ALL {
            let parsed: ConditionOperator = kind.as_str().parse().unwrap();
            assert_eq!(parsed, ConditionOperator::new(kind));
        }
        assert!("".parse::<ConditionOperator>().is_err());
        assert!("IfExists".parse::<ConditionOperator>().is_err());
        assert!(":".parse::<ConditionOperator>().is_err());
    }
}
