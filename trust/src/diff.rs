//! A line diff of two texts, for showing what a write changes in a policy before (or after) it is made.
//!
//! Policies are small (IAM caps a trust policy at 2,048 characters by default, 4,096 at most), so the
//! longest common subsequence is computed in full rather than with Myers' algorithm.

use std::fmt;

use serde::Serialize;

/// One line of a diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", content = "line", rename_all = "kebab-case")]
pub enum DiffLine {
    Kept(String),
    Removed(String),
    Added(String),
}

/// Every line of `old` and `new` in order, each marked kept, removed or added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct LineDiff(pub Vec<DiffLine>);

impl LineDiff {
    pub fn new(old: &str, new: &str) -> Self {
        let old: Vec<&str> = old.lines().collect();
        let new: Vec<&str> = new.lines().collect();
        // common[i][j]: the length of the longest common subsequence of old[i..] and new[j..].
        let mut common = vec![vec![0usize; new.len() + 1]; old.len() + 1];
        for i in (0..old.len()).rev() {
            for j in (0..new.len()).rev() {
                common[i][j] = if old[i] == new[j] {
                    common[i + 1][j + 1] + 1
                } else {
                    common[i + 1][j].max(common[i][j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        let mut lines = Vec::with_capacity(old.len().max(new.len()));
        while i < old.len() || j < new.len() {
            if i < old.len() && j < new.len() && old[i] == new[j] {
                lines.push(DiffLine::Kept(old[i].to_owned()));
                i += 1;
                j += 1;
            } else if i < old.len() && (j == new.len() || common[i + 1][j] >= common[i][j + 1]) {
                // Removals before additions, as diff(1) shows a changed line.
                lines.push(DiffLine::Removed(old[i].to_owned()));
                i += 1;
            } else {
                lines.push(DiffLine::Added(new[j].to_owned()));
                j += 1;
            }
        }
        Self(lines)
    }

    /// Whether the texts differ.
    pub fn has_changes(&self) -> bool {
        self.0.iter().any(|line| !matches!(line, DiffLine::Kept(_)))
    }
}

/// `  ` kept, `- ` removed, `+ ` added, one line each.
impl fmt::Display for LineDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.0 {
            match line {
                DiffLine::Kept(text) => writeln!(f, "  {text}")?,
                DiffLine::Removed(text) => writeln!(f, "- {text}")?,
                DiffLine::Added(text) => writeln!(f, "+ {text}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_each_line() {
        let diff = LineDiff::new("a\nb\nc\n", "a\nx\nc\nd\n");
        assert_eq!(diff.to_string(), "  a\n- b\n+ x\n  c\n+ d\n");
        assert!(diff.has_changes());
        assert!(!LineDiff::new("a\nb", "a\nb\n").has_changes());
        assert_eq!(LineDiff::new("", "new").to_string(), "+ new\n");
        assert_eq!(LineDiff::new("old", "").to_string(), "- old\n");
    }
}
