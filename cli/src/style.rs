//! How the CLI styles what it prints: colour only on a terminal, never with `NO_COLOR` set (https://no-color.org).

use std::io::IsTerminal;

/// Whether output to standard output may carry colour.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    colour: bool,
}

/// The colour a CloudFormation status reads in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Done,
    Busy,
    Bad,
}

impl Style {
    pub fn for_stdout() -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
        Self {
            colour: !no_color && std::io::stdout().is_terminal(),
        }
    }

    /// `text` in the colour of `tone`, padded to `width` columns outside the escape codes so that tables align.
    pub fn paint(self, text: &str, tone: Tone, width: usize) -> String {
        let padded = format!("{text:<width$}");
        if !self.colour {
            return padded;
        }
        let code = match tone {
            Tone::Done => "32",
            Tone::Busy => "33",
            Tone::Bad => "31",
        };
        format!("\x1b[{code}m{padded}\x1b[0m")
    }
}

/// How long something took, for people: milliseconds under a second, else seconds to a tenth.
pub fn took(elapsed: std::time::Duration) -> String {
    if elapsed.as_secs_f64() < 1.0 {
        format!("{} ms", elapsed.as_millis())
    } else {
        format!("{:.1} s", elapsed.as_secs_f64())
    }
}

/// The tone of a stack, resource or drift status: failures and rollbacks bad, work under way busy, the rest done.
pub fn tone_of_status(status: &str) -> Tone {
    if status.contains("FAILED") || status.contains("ROLLBACK") || status == "DRIFTED" || status == "MODIFIED" {
        Tone::Bad
    } else if status.ends_with("IN_PROGRESS") {
        Tone::Busy
    } else {
        Tone::Done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollbacks_and_failures_read_bad_work_under_way_busy() {
        assert_eq!(tone_of_status("CREATE_COMPLETE"), Tone::Done);
        assert_eq!(tone_of_status("UPDATE_ROLLBACK_COMPLETE"), Tone::Bad);
        assert_eq!(tone_of_status("CREATE_FAILED"), Tone::Bad);
        assert_eq!(tone_of_status("DELETE_IN_PROGRESS"), Tone::Busy);
        assert_eq!(tone_of_status("ROLLBACK_IN_PROGRESS"), Tone::Bad);
        assert_eq!(tone_of_status("IN_SYNC"), Tone::Done);
    }

    #[test]
    fn short_times_read_in_milliseconds() {
        assert_eq!(took(std::time::Duration::from_millis(48)), "48 ms");
        assert_eq!(took(std::time::Duration::from_millis(6120)), "6.1 s");
    }

    #[test]
    fn without_colour_only_padding() {
        assert_eq!(Style { colour: false }.paint("ok", Tone::Done, 4), "ok  ");
        assert_eq!(Style { colour: true }.paint("ok", Tone::Bad, 4), "\x1b[31mok  \x1b[0m");
    }
}
