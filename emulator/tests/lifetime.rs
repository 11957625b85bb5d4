//! The lifetime of an in-process emulator. (The command-line emulator, `pia emulator`, is tested in the
//! workspace's tests/cli_emulator.rs.)

mod common;

use std::time::Duration;

use common::*;

#[tokio::test]
async fn dropping_the_last_handle_stops_the_server() {
    let emu = start().await;
    let addr = emu.local_addr();
    let clone = emu.clone();
    drop(emu);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_ok(),
        "a clone keeps it alive"
    );
    drop(clone);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
