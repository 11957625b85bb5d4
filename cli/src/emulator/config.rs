//! The emulator's configuration file: read, deserialized (unknown keys and wrong types refused by serde), then
//! checked as a whole (`EmulatorConfig::problems`), every problem reported with its key path.

use std::path::Path;

use pia_emulator::EmulatorConfig;

use crate::{CliError, read_input};

/// The configuration of `path`, or the defaults without one.
pub fn load(path: Option<&Path>) -> Result<EmulatorConfig, CliError> {
    let Some(path) = path else {
        return Ok(EmulatorConfig::default());
    };
    let text = read_input(Some(path))?;
    let config: EmulatorConfig =
        serde_json::from_slice(&text).map_err(|e| CliError::Config(format!("{}: {e}", path.display())))?;
    let problems = config.problems();
    if problems.is_empty() {
        return Ok(config);
    }
    let mut message = format!("{}: {} problem(s):", path.display(), problems.len());
    for problem in problems {
        message.push_str(&format!("\n  {problem}"));
    }
    Err(CliError::Config(message))
}
