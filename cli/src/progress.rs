//! Progress of long operations on stderr, drawn only on a terminal (redirected, it prints nothing), so that a
//! person sees work under way and logs stay clean.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A spinner with `message` and the elapsed time, ticking until finished, for work that prints nothing meanwhile.
pub fn spinner(message: impl Into<String>) -> ProgressBar {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
    let template = if no_color {
        "{spinner} {msg} ({elapsed})"
    } else {
        "{spinner:.cyan} {msg} ({elapsed})"
    };
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar.set_message(message.into());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Progress of work that prints results as it goes: a spinner when those go elsewhere (`pia bench > figures.md`),
/// else one line, as a spinner would draw over the results on the same terminal.
pub fn section(message: impl Into<String>) -> ProgressBar {
    let message = message.into();
    if std::io::stdout().is_terminal() {
        if std::io::stderr().is_terminal() {
            eprintln!("… {message}");
        }
        return ProgressBar::hidden();
    }
    spinner(message)
}
