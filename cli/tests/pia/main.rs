//! The `pia` command as people run it: the built binary, its output and exit codes, against the emulator and moto.
//! One test binary, so that CI links it once.

mod bench;
mod emulator;
#[path = "../../../trust/tests/support/moto.rs"]
mod moto;
mod pod;
mod registration;
mod running_emulator;
mod secrets;
mod trust;
