//! `pia package` and `pia check-bootstrap` as people run them: PIA_BOOTSTRAP names the binary as for `cfn submit`,
//! a debug build is packaged with a warning that says how to build the release one, a missing bootstrap says how to
//! build it, and the exit codes are 0 loads / 1 Lambda could not load it / 2 unreadable input.

use std::process::{Command, Output};

use serde_json::Value;

fn pia(args: &[&str], bootstrap: Option<&std::path::Path>, dir: &std::path::Path) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pia"));
    command.args(args).current_dir(dir).env_remove("PIA_BOOTSTRAP");
    if let Some(bootstrap) = bootstrap {
        command.env("PIA_BOOTSTRAP", bootstrap);
    }
    command.output().unwrap()
}

fn project_root() -> &'static std::path::Path {
    std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

#[test]
fn package_takes_pia_bootstrap_and_warns_that_a_debug_build_is_one() {
    let bootstrap = pia_testkit::bootstrap_binary();
    let out = std::env::temp_dir().join(format!("pia-package-{}.zip", std::process::id()));
    let packaged = pia(
        &[
            "package",
            "--type-name",
            "Acme::EKS::PodIdentityAssociation",
            "--output-file",
            out.to_str().unwrap(),
            "--output",
            "json",
        ],
        Some(&bootstrap),
        project_root(),
    );
    let stderr = String::from_utf8_lossy(&packaged.stderr);
    assert!(packaged.status.success(), "{stderr}");
    assert!(
        stderr.contains("bootstrap carries debug info, as a debug build does")
            && stderr.contains("Build the release one: cargo zigbuild --release --locked -p pia-provider --bin bootstrap --target x86_64-unknown-linux-gnu.2.34"),
        "{stderr}"
    );
    let result: Value = serde_json::from_slice(&packaged.stdout).unwrap();
    assert_eq!(result["TypeName"], "Acme::EKS::PodIdentityAssociation");
    assert_eq!(result["Bootstrap"]["DebugInfo"], true);
    assert_eq!(result["Bootstrap"]["Path"], bootstrap.display().to_string());
    assert!(std::fs::metadata(&out).unwrap().len() > 0);
    std::fs::remove_file(&out).unwrap();
}

#[test]
fn a_missing_bootstrap_says_how_to_build_it() {
    let dir = std::env::temp_dir().join(format!("pia-package-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let missing = pia(&["check-bootstrap"], None, &dir);
    assert_eq!(missing.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("cannot read target/x86_64-unknown-linux-gnu/release/bootstrap")
            && stderr.contains("build it first: cargo zigbuild --release"),
        "{stderr}"
    );
}

#[test]
fn check_bootstrap_exits_0_for_a_loadable_binary_and_1_for_one_lambda_cannot_start() {
    let bootstrap = pia_testkit::bootstrap_binary();
    let loads = pia(&["check-bootstrap", bootstrap.to_str().unwrap()], None, project_root());
    assert!(loads.status.success());
    assert!(String::from_utf8_lossy(&loads.stdout).contains("provided.al2023 can load it"));

    let script = std::env::temp_dir().join(format!("pia-not-elf-{}", std::process::id()));
    std::fs::write(&script, "#!/bin/sh\necho hi\n").unwrap();
    let refused = pia(
        &["check-bootstrap", script.to_str().unwrap(), "--output", "json"],
        None,
        project_root(),
    );
    std::fs::remove_file(&script).unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let result: Value = serde_json::from_slice(&refused.stdout).unwrap();
    assert_eq!(result["Loadable"], false);
    assert!(
        result["Problem"]
            .as_str()
            .unwrap()
            .contains("not a 64-bit Linux executable")
    );
}
