//! Scale: List through 5,000 associations against its floor (the same pages by bare calls), and the emulator
//! holding 100,000.

use std::time::{Duration, Instant};

use pia_testkit::request;
use serde_json::{Value, json};

use super::function::peak_rss_kib;
use super::report::Table;
use super::{ROLE, World, ms, percentiles, us};
use crate::CliError;

pub(super) async fn scale() -> Result<Table, CliError> {
    let world = World::start().await?;
    let mut table = Table::new("Scale", &["measurement", "value"]);
    world.emulator.seed_associations("demo", "scale", "sa", 5_000, ROLE);
    // Walks alternate which goes first, so that neither gains from the machine's warm-up.
    let (mut handler, mut floor) = (Vec::new(), Vec::new());
    let (mut listed, mut pages) = (0, 0);
    for walk in 0..WALKS {
        let order = if walk % 2 == 0 { [true, false] } else { [false, true] };
        for via_handler in order {
            if via_handler {
                world.emulator.reset_calls();
                let (elapsed, models) = list_all_via_handler(&world).await;
                handler.push(elapsed);
                listed = models;
                pages = world.emulator.calls("ListPodIdentityAssociations");
            } else {
                let started = Instant::now();
                list_all_bare(&world).await?;
                floor.push(started.elapsed());
            }
        }
    }
    let (handler, floor) = (percentiles(&mut handler).0, percentiles(&mut floor).0);
    table.row([
        format!("List through 5,000 associations via the handler, median of {WALKS}"),
        format!("{listed} models, {pages} pages, {}", ms(handler)),
    ]);
    table.row([
        format!("the same pages by bare ListPodIdentityAssociations calls (floor), median of {WALKS}"),
        ms(floor),
    ]);
    table.row([
        "List through 5,000: handler over floor".to_owned(),
        format!("{:.2}×", handler.as_secs_f64() / floor.as_secs_f64()),
    ]);

    let started = Instant::now();
    world.emulator.seed_associations("demo", "scale", "big", 95_000, ROLE);
    table.row([
        "Seed the emulator to 100,000 associations".to_owned(),
        ms(started.elapsed()),
    ]);
    let last = world
        .emulator
        .associations("demo")
        .pop()
        .map(|a| a.association_id)
        .unwrap_or_default();
    let mut describe = Vec::new();
    let mut page = Vec::new();
    for _ in 0..200 {
        let started = Instant::now();
        world
            .eks
            .describe_pod_identity_association()
            .cluster_name("demo")
            .association_id(&last)
            .send()
            .await
            .map_err(|e| CliError::Call(e.to_string()))?;
        describe.push(started.elapsed());
        let started = Instant::now();
        world
            .eks
            .list_pod_identity_associations()
            .cluster_name("demo")
            .namespace("scale")
            .max_results(100)
            .send()
            .await
            .map_err(|e| CliError::Call(e.to_string()))?;
        page.push(started.elapsed());
    }
    table.row([
        "Describe with 100,000 present, median".to_owned(),
        us(percentiles(&mut describe).0),
    ]);
    table.row([
        "List page (filtered) with 100,000 present, median".to_owned(),
        us(percentiles(&mut page).0),
    ]);
    table.row([
        "RSS of this process with 100,000 associations".to_owned(),
        format!("{:.0} MiB", peak_rss_kib(std::process::id()) as f64 / 1024.0),
    ]);
    Ok(table)
}

/// Walks through the 5,000 associations, by the handler and by the floor each: an even number, so that each goes
/// first as often as the other.
const WALKS: usize = 20;

/// Every association of the cluster through the handler, page after page as CloudFormation asks for them
/// (nextToken by nextToken): the time the handler took over all pages (as the Lambda runs it: building each request
/// and reading each answer are CloudFormation's part), and the number of models listed.
async fn list_all_via_handler(world: &World) -> (Duration, usize) {
    let mut next_token: Option<Value> = None;
    let (mut took, mut listed) = (Duration::ZERO, 0);
    loop {
        let mut list = request("LIST", json!({"ClusterName": "demo"}));
        if let Some(token) = &next_token {
            list["nextToken"] = token.clone();
        }
        let (elapsed, event) = world.timed(&list).await;
        took += elapsed;
        listed += event["resourceModels"].as_array().map_or(0, Vec::len);
        match event.get("nextToken") {
            Some(token) => next_token = Some(token.clone()),
            None => return (took, listed),
        }
    }
}

/// The same pages by the bare client, as the handler asks for them (100 per page).
async fn list_all_bare(world: &World) -> Result<(), CliError> {
    let mut next_token = None;
    loop {
        let page = world
            .eks
            .list_pod_identity_associations()
            .cluster_name("demo")
            .max_results(100)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|e| CliError::Call(e.to_string()))?;
        next_token = page.next_token;
        if next_token.is_none() {
            return Ok(());
        }
    }
}
