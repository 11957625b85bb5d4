//! Scale: List through 5,000 associations, and the emulator holding 100,000.

use std::time::Instant;

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
    world.emulator.reset_calls();
    let started = Instant::now();
    let mut next_token: Option<Value> = None;
    let mut listed = 0;
    loop {
        let mut list = request("LIST", json!({"ClusterName": "demo"}));
        if let Some(token) = &next_token {
            list["nextToken"] = token.clone();
        }
        let event = world.invoke(&list).await;
        listed += event["resourceModels"].as_array().map_or(0, Vec::len);
        match event.get("nextToken") {
            Some(token) => next_token = Some(token.clone()),
            None => break,
        }
    }
    table.row([
        "List through 5,000 associations via the handler".to_owned(),
        format!(
            "{listed} models, {} pages, {}",
            world.emulator.calls("ListPodIdentityAssociations"),
            ms(started.elapsed())
        ),
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
