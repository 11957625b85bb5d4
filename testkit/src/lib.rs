//! What tests, the demo and the benchmark share, so that each is written once: the HandlerRequest as CloudFormation
//! sends it ([`request`]), a world of the emulated AWS and the provider talking to it ([`world`]), SDK clients of the
//! emulated services ([`clients`]), a raw HTTP/1.1 client for the agent and the invoke server ([`http`]), callers
//! holding exactly the schema's handler permissions ([`permissions`]), and the provider registered as the emulator's
//! type for stacks and Cloud Control ([`provider_type`]).

pub mod clients;
pub mod http;
pub mod permissions;
pub mod provider_type;
pub mod request;
pub mod secrets;
pub mod world;

pub use request::*;
pub use world::{World, fast_pacing};

/// The pod identity roles of the emulator's default configuration.
pub const ROLE: &str = "arn:aws:iam::111122223333:role/demo-pod-role";
pub const ROLE_2: &str = "arn:aws:iam::111122223333:role/demo-pod-role-2";
/// A role of another account, for TargetRoleArn.
pub const TARGET_ROLE: &str = "arn:aws:iam::444455556666:role/cross-account-target";

/// The Lambda `bootstrap` of this build, beside the running test in the target directory (`cargo test --workspace`
/// builds it; so does `cargo build -p pia-provider --bin bootstrap`).
pub fn bootstrap_binary() -> std::path::PathBuf {
    let test = std::env::current_exe().expect("the running test's path");
    let profile = test
        .parent()
        .and_then(|deps| deps.parent())
        .expect("a test runs from target/<profile>/deps");
    let bootstrap = profile.join("bootstrap");
    assert!(
        bootstrap.is_file(),
        "no bootstrap at {}: run `cargo build -p pia-provider --bin bootstrap` first",
        bootstrap.display()
    );
    bootstrap
}
