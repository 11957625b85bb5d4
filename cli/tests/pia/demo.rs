//! `pia demo`, the README's main job: every step behaves as CloudFormation expects, and the stack part deploys
//! the example template, gives a pod the stack's role and deletes the stack.

#[tokio::test]
async fn the_demo_runs_every_step_and_the_stack_part() {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_pia"))
        .arg("demo")
        .env("NO_COLOR", "1")
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let position = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("{needle:?} missing from:\n{text}"))
    };
    let steps = [
        "▶ CREATE ",
        "assumed-role/payments-api/eks-demo-api-3f6c1-",
        "assumed-role/demo-pod-role-2/eks-demo-api-8d2e6-",
        "▶ READ after delete ",
        "▶ STACK deploy examples/cloudformation/pod-identity.yaml as \"payments\"",
        "Stack payments CREATE_COMPLETE",
        "assumed-role/payments-PodRole-",
        "▶ STACK delete payments",
        "Stack payments deleted",
        "All steps behaved as CloudFormation expects.",
    ];
    let positions: Vec<usize> = steps.iter().map(|step| position(step)).collect();
    assert!(positions.is_sorted(), "steps out of order: {text}");
    assert!(!text.contains('\x1b'), "NO_COLOR: {text}");
}
