//! Warm latency per action against its floor (the bare aws-sdk-eks calls the action needs), and the EKS calls
//! each handler path makes.

use std::time::{Duration, Instant};

use pia_testkit::{bearer_token, request, update_request};
use serde_json::{Value, json};

use super::report::Table;
use super::{EksClient, ROLE, ROLE_2, World, model, percentiles, start_emulator, us};
use crate::CliError;

/// The provider and the floor's client run on one thread, as in the Lambda (`bootstrap` is single-threaded); the
/// emulator, standing in for EKS, serves from this process's other runtime.
pub(super) async fn warm_latency(iterations: usize) -> Result<Table, CliError> {
    let emulator = start_emulator().await?;
    let (done, outcome) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let result = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| CliError::Start(e.to_string()))
            .and_then(|lambda_like| {
                lambda_like.block_on(async move { measure_warm_latency(&World::on(emulator).await, iterations).await })
            });
        let _ = done.send(result);
    });
    outcome
        .await
        .map_err(|_| CliError::Call("the warm-latency thread stopped".into()))?
}

async fn measure_warm_latency(world: &World, iterations: usize) -> Result<Table, CliError> {
    let eks = &world.eks;
    let mut table = Table::new(
        format!(
            "Warm latency per action ({iterations} iterations each; floor = the bare aws-sdk-eks calls the action needs)"
        ),
        &["action", "EKS calls", "handler median", "floor median", "ratio"],
    );

    // Create: a fresh service account each time.
    let mut handler = Vec::new();
    let mut floor = Vec::new();
    let mut created = Vec::new();
    for i in 0..iterations {
        let (elapsed, event) = world
            .timed(&request("CREATE", model(&format!("h-{i}"), ROLE, json!([]))))
            .await;
        handler.push(elapsed);
        created.push(event["resourceModel"].clone());
        floor.push(floor_create(eks, &format!("f-{i}"), None).await?);
    }
    report(
        &mut table,
        world,
        "create",
        &request("CREATE", model("probe-c", ROLE, json!([]))),
        &mut handler,
        &mut floor,
    )
    .await;

    let first = created[0].clone();
    let arn = first["AssociationArn"].as_str().unwrap_or_default().to_owned();
    // The floor works on an association of its own, so that the handler's view of its own stays true.
    let floor_association = world
        .emulator
        .associations("demo")
        .into_iter()
        .find(|a| a.service_account == "f-0")
        .ok_or_else(|| CliError::Demo("the floor's association is missing".into()))?;
    let id = floor_association.association_id;
    let floor_arn = floor_association.association_arn;
    let (mut handler, mut floor) = (Vec::new(), Vec::new());
    for _ in 0..iterations {
        handler.push(world.timed(&request("READ", json!({"AssociationArn": arn}))).await.0);
        let started = Instant::now();
        floor_describe(eks, &id).await?;
        floor.push(started.elapsed());
    }
    report(
        &mut table,
        world,
        "read",
        &request("READ", json!({"AssociationArn": arn})),
        &mut handler,
        &mut floor,
    )
    .await;

    // Update, role change: Describe + Update.
    let (mut handler, mut floor) = (Vec::new(), Vec::new());
    let mut current = first.clone();
    for i in 0..iterations {
        let mut wanted = current.clone();
        wanted["RoleArn"] = json!(if i % 2 == 0 { ROLE_2 } else { ROLE });
        let (elapsed, event) = world.timed(&update_request(wanted, current.clone())).await;
        handler.push(elapsed);
        current = event["resourceModel"].clone();
        let started = Instant::now();
        floor_describe(eks, &id).await?;
        floor_update_role(eks, &id, if i % 2 == 0 { ROLE_2 } else { ROLE }).await?;
        floor.push(started.elapsed());
    }
    let mut probe = current.clone();
    probe["RoleArn"] = json!(other_role(current["RoleArn"].as_str().unwrap_or_default()));
    report(
        &mut table,
        world,
        "update: role",
        &update_request(probe, current.clone()),
        &mut handler,
        &mut floor,
    )
    .await;

    // Update, tags only: Describe + TagResource.
    let (mut handler, mut floor) = (Vec::new(), Vec::new());
    let mut current = world.read(&arn).await;
    for i in 0..iterations {
        let mut wanted = current.clone();
        wanted["Tags"] = json!([{"Key": "rev", "Value": i.to_string()}]);
        let (elapsed, event) = world.timed(&update_request(wanted, current.clone())).await;
        handler.push(elapsed);
        current = event["resourceModel"].clone();
        let started = Instant::now();
        floor_describe(eks, &id).await?;
        floor_tag(eks, &floor_arn, "rev", format!("f{i}")).await?;
        floor.push(started.elapsed());
    }
    let mut probe = current.clone();
    probe["Tags"] = json!([{"Key": "rev", "Value": "probe"}]);
    report(
        &mut table,
        world,
        "update: tags only",
        &update_request(probe, current.clone()),
        &mut handler,
        &mut floor,
    )
    .await;
    // Update, nothing changed: Describe only.
    let (mut handler, mut floor) = (Vec::new(), Vec::new());
    let current = world.read(&arn).await;
    for _ in 0..iterations {
        handler.push(world.timed(&update_request(current.clone(), current.clone())).await.0);
        let started = Instant::now();
        floor_describe(eks, &id).await?;
        floor.push(started.elapsed());
    }
    report(
        &mut table,
        world,
        "update: no change",
        &update_request(current.clone(), current.clone()),
        &mut handler,
        &mut floor,
    )
    .await;
    let unchanged = update_request(current.clone(), current.clone()).to_string();
    let unchanged_decoding = decoding(eks, &id, &unchanged, iterations).await?;

    // Update, role and tags: Describe + Update + TagResource (Update takes no tags).
    let (mut handler, mut floor) = (Vec::new(), Vec::new());
    let mut current = world.read(&arn).await;
    let mut floor_role = world
        .emulator
        .associations("demo")
        .into_iter()
        .find(|a| a.association_id == id)
        .map(|a| a.role_arn)
        .unwrap_or_default();
    for i in 0..iterations {
        let role = other_role(current["RoleArn"].as_str().unwrap_or_default());
        floor_role = other_role(&floor_role).to_owned();
        let mut wanted = current.clone();
        wanted["RoleArn"] = json!(role);
        wanted["Tags"] = json!([{"Key": "rev", "Value": format!("both-{i}")}]);
        let (elapsed, event) = world.timed(&update_request(wanted, current.clone())).await;
        handler.push(elapsed);
        current = event["resourceModel"].clone();
        let started = Instant::now();
        floor_describe(eks, &id).await?;
        floor_update_role(eks, &id, &floor_role).await?;
        floor_tag(eks, &floor_arn, "rev", format!("both-{i}")).await?;
        floor.push(started.elapsed());
    }
    let mut probe = current.clone();
    probe["RoleArn"] = json!(other_role(current["RoleArn"].as_str().unwrap_or_default()));
    probe["Tags"] = json!([{"Key": "rev", "Value": "both"}]);
    report(
        &mut table,
        world,
        "update: role and tags",
        &update_request(probe, current.clone()),
        &mut handler,
        &mut floor,
    )
    .await;

    // Update, tags removed: Describe + UntagResource. Each round first puts a tag back, untimed.
    let (mut handler, mut floor) = (Vec::new(), Vec::new());
    let handler_arn = world.read(&arn).await["AssociationArn"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for _ in 0..iterations {
        for resource in [&handler_arn, &floor_arn] {
            floor_tag(eks, resource, "rev", "to-remove").await?;
        }
        let current = world.read(&arn).await;
        let mut wanted = current.clone();
        wanted["Tags"] = json!([]);
        handler.push(world.timed(&update_request(wanted, current)).await.0);
        let started = Instant::now();
        floor_describe(eks, &id).await?;
        floor_untag(eks, &floor_arn, "rev").await?;
        floor.push(started.elapsed());
    }
    floor_tag(eks, &handler_arn, "rev", "to-remove").await?;
    let current = world.read(&arn).await;
    let mut probe = current.clone();
    probe["Tags"] = json!([]);
    report(
        &mut table,
        world,
        "update: tags removed",
        &update_request(probe, current),
        &mut handler,
        &mut floor,
    )
    .await;

    // Create with tags: one CreatePodIdentityAssociation carrying them.
    let (mut handler, mut floor) = (Vec::new(), Vec::new());
    for i in 0..iterations {
        let tagged = model(&format!("ht-{i}"), ROLE, json!([{"Key": "team", "Value": "platform"}]));
        handler.push(world.timed(&request("CREATE", tagged)).await.0);
        floor.push(floor_create(eks, &format!("ft-{i}"), Some(("team", "platform"))).await?);
    }
    let tagged = model("probe-tagged", ROLE, json!([{"Key": "team", "Value": "platform"}]));
    report(
        &mut table,
        world,
        "create with tags",
        &request("CREATE", tagged),
        &mut handler,
        &mut floor,
    )
    .await;

    let (mut handler, mut floor) = (Vec::new(), Vec::new());
    for _ in 0..iterations {
        handler.push(world.timed(&request("LIST", json!({"ClusterName": "demo"}))).await.0);
        let started = Instant::now();
        eks.list_pod_identity_associations()
            .cluster_name("demo")
            .max_results(100)
            .send()
            .await
            .map_err(|e| CliError::Call(e.to_string()))?;
        floor.push(started.elapsed());
    }
    report(
        &mut table,
        world,
        "list (page of 100)",
        &request("LIST", json!({"ClusterName": "demo"})),
        &mut handler,
        &mut floor,
    )
    .await;
    // The part of List's extra that no provider can skip: encoding the page as the JSON CloudFormation receives.
    let page = world
        .provider
        .invoke(request("LIST", json!({"ClusterName": "demo"})).to_string().as_bytes())
        .await;
    let list_encoding = median_of(iterations, || serde_json::to_vec(&page).unwrap_or_default());
    let page_bytes = serde_json::to_vec(&page).map_or(0, |bytes| bytes.len());
    // The parts of Create's extra that are the provider's own work, not the EKS call's.
    let create_payload = request("CREATE", model("probe-d", ROLE, json!([]))).to_string();
    let create_decoding = decoding(eks, &id, &create_payload, iterations).await?;
    let create_answer = world.provider.invoke(create_payload.as_bytes()).await;
    let create_encoding = median_of(iterations, || serde_json::to_vec(&create_answer).unwrap_or_default());

    // Delete: the handler deletes the ones it created, the floor the ones it created.
    let floor_ids: Vec<String> = world
        .emulator
        .associations("demo")
        .into_iter()
        .filter(|a| a.service_account.starts_with("f-") && a.service_account != "f-0")
        .map(|a| a.association_id)
        .collect();
    let (mut handler, mut floor) = (Vec::new(), Vec::new());
    for (model_v, floor_id) in created.iter().skip(1).zip(&floor_ids) {
        handler.push(world.timed(&request("DELETE", model_v.clone())).await.0);
        let started = Instant::now();
        eks.delete_pod_identity_association()
            .cluster_name("demo")
            .association_id(floor_id)
            .send()
            .await
            .map_err(|e| CliError::Call(e.to_string()))?;
        floor.push(started.elapsed());
    }
    report(
        &mut table,
        world,
        "delete",
        &request("DELETE", first),
        &mut handler,
        &mut floor,
    )
    .await;
    table.note(format!(
        "Of List's extra, encoding the page of 100 models ({:.1} KB of JSON) takes {} (median).",
        page_bytes as f64 / 1000.0,
        us(list_encoding)
    ));
    table.note(format!(
        "Of Create's extra, decoding and validating the request takes {} right after an EKS call, as in the \
         handler ({} when repeated in a loop), encoding the answer {} (medians).",
        us(create_decoding.after_call),
        us(create_decoding.repeated),
        us(create_encoding)
    ));
    table.note(format!(
        "Of the extra of \"update: no change\", decoding the request (both models typed; the desired one is \
         held to the schema while EKS answers the read) takes {} right after an EKS call ({} when repeated): after \
         a call, the provider's own code and data are no longer in the CPU's caches.",
        us(unchanged_decoding.after_call),
        us(unchanged_decoding.repeated),
    ));
    Ok(table)
}

/// How long decoding a request takes where the handler does it, after an EKS call (whose code and the kernel's
/// have taken the caches), and when repeated in a loop (caches warm).
struct Decoding {
    after_call: Duration,
    repeated: Duration,
}

async fn decoding(
    eks: &EksClient,
    association_id: &str,
    payload: &str,
    iterations: usize,
) -> Result<Decoding, CliError> {
    let validator = pia_provider::schema::ModelValidator::new();
    let decode = || std::hint::black_box(pia_provider::protocol::decode(payload.as_bytes(), &validator).is_ok());
    let mut after_call = Vec::with_capacity(iterations);
    for _ in 0..iterations.max(1) {
        floor_describe(eks, association_id).await?;
        let started = Instant::now();
        decode();
        after_call.push(started.elapsed());
    }
    Ok(Decoding {
        after_call: percentiles(&mut after_call).0,
        repeated: median_of(iterations, decode),
    })
}

/// The median time of `iterations` runs of `work` (its result kept from being optimised away).
fn median_of<T>(iterations: usize, mut work: impl FnMut() -> T) -> Duration {
    let mut times: Vec<Duration> = (0..iterations.max(1))
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(work());
            started.elapsed()
        })
        .collect();
    percentiles(&mut times).0
}

/// The floor's CreatePodIdentityAssociation, timed from the request's building on. Its idempotency token is fresh,
/// as the handler's is (the request's bearer token).
async fn floor_create(eks: &EksClient, service_account: &str, tag: Option<(&str, &str)>) -> Result<Duration, CliError> {
    let token = bearer_token();
    let started = Instant::now();
    let mut create = eks
        .create_pod_identity_association()
        .cluster_name("demo")
        .namespace("bench")
        .service_account(service_account)
        .role_arn(ROLE)
        .client_request_token(token);
    if let Some((key, value)) = tag {
        create = create.tags(key, value);
    }
    create.send().await.map_err(|e| CliError::Call(e.to_string()))?;
    Ok(started.elapsed())
}

/// The floor's DescribePodIdentityAssociation, the call Read and every Update path start with.
async fn floor_describe(eks: &EksClient, association_id: &str) -> Result<(), CliError> {
    eks.describe_pod_identity_association()
        .cluster_name("demo")
        .association_id(association_id)
        .send()
        .await
        .map(drop)
        .map_err(|e| CliError::Call(e.to_string()))
}

/// The floor's TagResource of one tag.
async fn floor_tag(eks: &EksClient, arn: &str, key: &str, value: impl Into<String>) -> Result<(), CliError> {
    eks.tag_resource()
        .resource_arn(arn)
        .tags(key, value)
        .send()
        .await
        .map(drop)
        .map_err(|e| CliError::Call(e.to_string()))
}

/// The floor's UntagResource of one key.
async fn floor_untag(eks: &EksClient, arn: &str, key: &str) -> Result<(), CliError> {
    eks.untag_resource()
        .resource_arn(arn)
        .tag_keys(key)
        .send()
        .await
        .map(drop)
        .map_err(|e| CliError::Call(e.to_string()))
}

/// The floor's UpdatePodIdentityAssociation of the role alone.
async fn floor_update_role(eks: &EksClient, association_id: &str, role: &str) -> Result<(), CliError> {
    eks.update_pod_identity_association()
        .cluster_name("demo")
        .association_id(association_id)
        .role_arn(role)
        .send()
        .await
        .map(drop)
        .map_err(|e| CliError::Call(e.to_string()))
}

/// The demo role that is not `role`, so that each update changes it.
fn other_role(role: &str) -> &'static str {
    if role == ROLE { ROLE_2 } else { ROLE }
}

/// One table row: the calls a probe invocation makes, and the medians.
async fn report(
    table: &mut Table,
    world: &World,
    action: &str,
    probe: &Value,
    handler: &mut [Duration],
    floor: &mut [Duration],
) {
    world.emulator.reset_calls();
    world.invoke(probe).await;
    let calls = world.emulator.call_log().join(" + ");
    let (handler_p50, _) = percentiles(handler);
    let (floor_p50, _) = percentiles(floor);
    table.row([
        action.to_owned(),
        calls,
        us(handler_p50),
        us(floor_p50),
        format!("{:.2}×", handler_p50.as_secs_f64() / floor_p50.as_secs_f64()),
    ]);
}
