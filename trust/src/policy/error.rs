//! The error of reading a policy document.

use thiserror::Error;

/// Why a text is not a policy document IAM would accept.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PolicyError {
    /// Not JSON at all.
    #[error("the policy is not valid JSON (line {line}, column {column}): {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    /// Not YAML either (text that does not start like JSON is read as YAML).
    #[error("the policy is neither JSON nor YAML: {message}")]
    Yaml { message: String },
    /// JSON, but an element has a shape the policy language does not allow.
    #[error("{element}: {problem}")]
    Malformed { element: String, problem: String },
}

impl PolicyError {
    pub(super) fn malformed(element: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Malformed {
            element: element.into(),
            problem: problem.into(),
        }
    }
}
