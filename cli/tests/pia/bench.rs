//! `pia bench` stays runnable, and the EKS calls it reports for each handler path are the fewest the path needs.
//! Timings are printed by the benchmark and never asserted here.

use std::process::Command;

fn bench(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_pia"))
        .arg("bench")
        .args(args)
        .output()
        .expect("pia runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "pia bench failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
fn each_handler_path_makes_the_fewest_eks_calls() {
    let report = bench(&["--only", "warm", "--iterations", "3"]);
    for (path, calls) in [
        ("create", "CreatePodIdentityAssociation"),
        ("create with tags", "CreatePodIdentityAssociation"),
        ("read", "DescribePodIdentityAssociation"),
        (
            "update: role",
            "DescribePodIdentityAssociation + UpdatePodIdentityAssociation",
        ),
        ("update: tags only", "DescribePodIdentityAssociation + TagResource"),
        // UpdatePodIdentityAssociation takes no tags: a role and tag change needs all three.
        (
            "update: role and tags",
            "DescribePodIdentityAssociation + UpdatePodIdentityAssociation + TagResource",
        ),
        ("update: tags removed", "DescribePodIdentityAssociation + UntagResource"),
        ("update: no change", "DescribePodIdentityAssociation"),
        ("list (page of 100)", "ListPodIdentityAssociations"),
        ("delete", "DeletePodIdentityAssociation"),
    ] {
        let row = format!("| {path} | {calls} |");
        assert!(report.contains(&row), "expected the row `{row}` in:\n{report}");
    }
    // Every row of the table carries its figures: handler and floor medians and their ratio.
    let rows: Vec<&str> = report
        .lines()
        .filter(|line| line.starts_with("| ") && !line.starts_with("| action"))
        .collect();
    assert!(rows.len() >= 10, "{report}");
    for row in rows {
        assert!(
            row.ends_with("× |") && row.matches(" µs").count() >= 2,
            "a row without figures: {row}"
        );
    }
    // The parts of the extra that are the provider's own work are timed beside the rows.
    for part in [
        "Of List's extra, encoding the page of 100 models",
        "Of Create's extra, decoding and validating",
    ] {
        assert!(report.contains(part), "expected `{part}` in:\n{report}");
    }
}

#[test]
fn cold_start_runs_the_real_bootstrap_through_a_full_crudl_beside_its_floor() {
    let bootstrap = pia_testkit::bootstrap_binary();
    let report = bench(&[
        "--only",
        "cold",
        "--cold-starts",
        "2",
        "--bootstrap",
        bootstrap.to_str().unwrap(),
        "--floor-function",
        env!("CARGO_BIN_EXE_trivial-function"),
    ]);
    assert!(
        report.contains(
            "| the CRUDL run's answers | CREATE SUCCESS, READ SUCCESS, UPDATE SUCCESS, LIST SUCCESS, DELETE SUCCESS |"
        ),
        "{report}"
    );
    for row in [
        "| the same for a trivial function on the same stack (floor), median | ",
        "| `bootstrap` over the floor (medians) | ",
    ] {
        assert!(report.contains(row), "expected a row starting `{row}` in:\n{report}");
    }
}

#[test]
fn without_its_floor_the_cold_start_says_that_the_floor_was_not_measured() {
    let bootstrap = pia_testkit::bootstrap_binary();
    let report = bench(&[
        "--only",
        "cold",
        "--cold-starts",
        "1",
        "--bootstrap",
        bootstrap.to_str().unwrap(),
        "--floor-function",
        "/nonexistent/trivial-function",
    ]);
    assert!(
        report.contains("(no trivial function at /nonexistent/trivial-function: the floor was not measured)"),
        "{report}"
    );
    assert!(!report.contains("over the floor"), "{report}");
}

#[test]
fn scale_walks_every_association_by_the_handler_and_by_its_floor() {
    let report = bench(&["--only", "scale"]);
    for row in [
        "| List through 5,000 associations via the handler, median of 20 | 5000 models, 50 pages, ",
        "| the same pages by bare ListPodIdentityAssociations calls (floor), median of 20 | ",
        "| List through 5,000: handler over floor | ",
    ] {
        assert!(report.contains(row), "expected a row starting `{row}` in:\n{report}");
    }
    let ratio = report
        .lines()
        .find(|line| line.starts_with("| List through 5,000: handler over floor | "))
        .unwrap();
    assert!(ratio.ends_with("× |"), "{ratio}");
}

#[test]
fn a_bootstrap_that_cannot_start_is_reported_with_what_it_said() {
    // The real bootstrap outside a Lambda environment exits 1 and names the missing variable; a runner that unsets it
    // makes it do exactly that. The benchmark must say so, not wait for an answer that never comes.
    use std::os::unix::fs::PermissionsExt;
    let runner =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("no-runtime-api-{}", std::process::id()));
    std::fs::write(&runner, "#!/bin/sh\nunset AWS_LAMBDA_RUNTIME_API\nexec \"$@\"\n").unwrap();
    std::fs::set_permissions(&runner, std::fs::Permissions::from_mode(0o755)).unwrap();
    let bootstrap = pia_testkit::bootstrap_binary();
    let output = Command::new(env!("CARGO_BIN_EXE_pia"))
        .args([
            "bench",
            "--only",
            "cold",
            "--cold-starts",
            "1",
            "--runner",
            runner.to_str().unwrap(),
        ])
        .args(["--bootstrap", bootstrap.to_str().unwrap()])
        .output()
        .expect("pia runs");
    std::fs::remove_file(&runner).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("`bootstrap`: cold start 0: the process stopped (exit status: 1); it logged:"),
        "{stderr}"
    );
    assert!(stderr.contains("AWS_LAMBDA_RUNTIME_API is not set"), "{stderr}");
}

#[test]
fn json_output_is_one_document_with_the_same_tables() {
    let bootstrap = pia_testkit::bootstrap_binary();
    let report = bench(&[
        "--only",
        "cold",
        "--cold-starts",
        "2",
        "--bootstrap",
        bootstrap.to_str().unwrap(),
        "--output",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_str(&report).expect("one JSON document");
    assert!(report["Heading"].as_str().unwrap().starts_with("pia bench ("));
    let [table] = report["Tables"].as_array().unwrap().as_slice() else {
        panic!("one table: {report}");
    };
    assert!(
        table["Title"]
            .as_str()
            .unwrap()
            .starts_with("Cold start of `bootstrap` (2 runs")
    );
    let answers = table["Rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["metric"] == "the CRUDL run's answers")
        .expect("the CRUDL row");
    assert_eq!(
        answers["value"],
        "CREATE SUCCESS, READ SUCCESS, UPDATE SUCCESS, LIST SUCCESS, DELETE SUCCESS"
    );
}

/// The peers section runs a peer through the same Runtime API; here the peer is this build's own `bootstrap` (the
/// Python and TypeScript peers need downloads CI does not make), so every row has both figures and a ratio.
#[test]
fn the_peers_section_measures_a_peer_beside_bootstrap() {
    let bootstrap = pia_testkit::bootstrap_binary();
    let peer = format!("twin={}", bootstrap.display());
    let report = bench(&[
        "--only",
        "peers",
        "--bootstrap",
        bootstrap.to_str().unwrap(),
        "--peer",
        &peer,
        "--cold-starts",
        "1",
        "--peer-iterations",
        "2",
        "--output",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    let rows = report["Tables"][0]["Rows"].as_array().unwrap();
    let actions: Vec<&str> = rows
        .iter()
        .map(|row| row["metric (median / p99)"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"cold start") && actions.contains(&"update: no change"),
        "{report}"
    );
    for row in rows {
        assert!(row["twin ratio"].as_str().unwrap().contains('×'), "{row}");
    }
}
