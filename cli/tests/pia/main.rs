//! The `pia` command as people run it: the built binary, its output and exit codes, against the emulator and moto.
//! One test binary, so that CI links it once.

mod bench;
mod conventions;
mod demo;
mod emulator;
mod invoke;
#[path = "../../../trust/tests/support/moto.rs"]
mod moto;
mod pod;
mod registration;
mod running_emulator;
mod secrets;
mod stack;
mod submission;
mod trust;
mod trust_create_role;
mod trust_template;
