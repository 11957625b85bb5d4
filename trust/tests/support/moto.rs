//! moto's server, a real IAM emulator speaking IAM's query protocol, started on a free loopback port for one
//! test and stopped when dropped. Shared by pia-trust's and the `pia` binary's tests (`#[path]`-included).
//!
//! It is found at `$MOTO_SERVER`, else at `.venv/bin/moto_server` in the crate's directory or one of its
//! parents (scripts/test.sh creates that virtualenv from tests/python/requirements.txt). A missing server
//! fails the test: skipping would hide that role creation was never tested.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct MotoServer {
    child: Child,
    pub endpoint: String,
    log: PathBuf,
}

pub fn moto_server_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("MOTO_SERVER") {
        return PathBuf::from(path);
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join(".venv/bin/moto_server"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "moto_server (the IAM emulator these tests run against) is not installed: run scripts/test.sh, \
                 which installs tests/python/requirements.txt into .venv, or set MOTO_SERVER to its path"
            )
        })
}

impl MotoServer {
    pub fn start() -> Self {
        let binary = moto_server_binary();
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|listener| listener.local_addr())
            .expect("a free loopback port")
            .port();
        let log = std::env::temp_dir().join(format!("moto-server-{}-{port}.log", std::process::id()));
        let log_file = std::fs::File::create(&log).expect("moto log file");
        let child = Command::new(&binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            // AWS-managed policies (arn:aws:iam::aws:policy/...) exist only when asked for.
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("moto log file"))
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {}: {e}; run scripts/test.sh to install it",
                    binary.display()
                )
            });
        let mut server = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("moto_server exited ({status}) before listening:\n{}", server.log_text());
            }
            if Instant::now() > deadline {
                panic!(
                    "moto_server did not listen on port {port} within 60 s:\n{}",
                    server.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}
