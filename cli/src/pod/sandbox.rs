//! The pod's private directory: its owner's alone (0700), holding the projected token (0600) where the container
//! would see it and serving as HOME; removed when the pod ends, whatever happened.

use std::collections::BTreeMap;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::PathBuf;
use std::process::ExitStatus;

use super::PodError;

pub struct Sandbox {
    root: PathBuf,
}

impl Sandbox {
    /// A new directory for `pod` in the system's temporary directory; refused if it exists (never reused).
    pub fn new(pod: &str) -> Result<Self, PodError> {
        let root = std::env::temp_dir().join(format!("pia-pod-{pod}-{}", std::process::id()));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&root)
            .map_err(|source| PodError::Io {
                what: format!("create {}", root.display()),
                source,
            })?;
        Ok(Self { root })
    }

    pub fn root(&self) -> String {
        self.root.display().to_string()
    }

    /// Where the container's `path` is in the sandbox.
    pub fn path(&self, path: &str) -> String {
        self.root.join(path.trim_start_matches('/')).display().to_string()
    }

    /// Writes a file at the container's `path`, the directories on the way 0700 and the file 0600.
    pub fn write_file(&self, path: &str, contents: &str) -> Result<(), PodError> {
        use std::io::Write;
        let file = PathBuf::from(self.path(path));
        let io = |source| PodError::Io {
            what: format!("write {}", file.display()),
            source,
        };
        if let Some(directory) = file.parent() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(directory)
                .map_err(io)?;
        }
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&file)
            .and_then(|mut handle| handle.write_all(contents.as_bytes()))
            .map_err(io)
    }

    /// Runs `command` with exactly `variables` as its environment, in the current directory, and waits for it.
    pub async fn run(&self, command: &[String], variables: Vec<(String, String)>) -> Result<ExitStatus, PodError> {
        let (program, arguments) = command.split_first().ok_or_else(|| PodError::Io {
            what: "run the command".into(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "no command given"),
        })?;
        // The last of a name wins, as in a container's env list.
        let variables: BTreeMap<String, String> = variables.into_iter().collect();
        // Ctrl-C reaches the command (same process group); with a handler registered it does not end this process,
        // which outlives the command to remove the sandbox.
        let _interrupts = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt());
        let mut child = tokio::process::Command::new(program)
            .args(arguments)
            .env_clear()
            .envs(variables)
            .spawn()
            .map_err(|source| PodError::Io {
                what: format!("run {program}"),
                source,
            })?;
        child.wait().await.map_err(|source| PodError::Io {
            what: format!("wait for {program}"),
            source,
        })
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
