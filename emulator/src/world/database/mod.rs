//! The state database (`state_file`): the durable copy of the world in SQLite, one row per entity.
//! Each row holds its entity as JSON (so that new fields need no schema change) beside the key
//! columns and the columns that carry EKS's and IAM's uniqueness rules. WAL with `synchronous=FULL`:
//! a commit that returned is on disk, whatever happens to the process after.
//!
//! Saved: clusters (with their signing keys), associations, client request tokens, IAM roles and
//! policies, CloudFormation stacks and issued sessions. Not saved: user keys (the configuration is their source of truth), behaviour
//! switches, the CloudFormation registry and the EKS Auth grant log. The file holds secrets (session
//! credentials, signing keys): it is made readable by its owner only.

mod error;
mod load;
mod records;
mod write;

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

pub(crate) use error::DatabaseError;

/// Bumped when the schema changes incompatibly (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 1;

/// How long a write waits for another process that holds the database's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(2);

/// What every SQLite file starts with.
const SQLITE_HEADER: &[u8] = b"SQLite format 3\0";

/// The tables; a new kind of entity adds its table here (key columns, constraint columns, `body`).
const TABLES: &str = "
CREATE TABLE IF NOT EXISTS clusters (
    name TEXT PRIMARY KEY,
    body TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS associations (
    cluster TEXT NOT NULL REFERENCES clusters (name) DEFERRABLE INITIALLY DEFERRED,
    association_id TEXT NOT NULL,
    namespace TEXT NOT NULL,
    service_account TEXT NOT NULL,
    -- The list position in its cluster.
    seq INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (cluster, association_id),
    UNIQUE (cluster, seq)
) STRICT;
CREATE TABLE IF NOT EXISTS create_tokens (
    cluster TEXT NOT NULL REFERENCES clusters (name) DEFERRABLE INITIALLY DEFERRED,
    token TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (cluster, token)
) STRICT;
CREATE TABLE IF NOT EXISTS update_tokens (
    cluster TEXT NOT NULL,
    association_id TEXT NOT NULL,
    token TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    PRIMARY KEY (cluster, association_id, token),
    FOREIGN KEY (cluster, association_id) REFERENCES associations (cluster, association_id)
        ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
) STRICT;
-- Role names are unique in an account whatever their case, as in IAM.
CREATE TABLE IF NOT EXISTS roles (
    account_id TEXT NOT NULL,
    name TEXT NOT NULL COLLATE NOCASE,
    arn TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    PRIMARY KEY (account_id, name)
) STRICT;
CREATE TABLE IF NOT EXISTS policies (
    arn TEXT PRIMARY KEY,
    body TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS stacks (
    stack_id TEXT PRIMARY KEY,
    body TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS sessions (
    access_key_id TEXT PRIMARY KEY,
    expiration INTEGER NOT NULL,
    body TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS sessions_by_expiration ON sessions (expiration);
";

/// The constraints made after loading, so that a file edited by hand that breaks one is refused with
/// the offending rows named (see [`load`]) rather than with SQLite's message.
const CONSTRAINTS: &str = "
-- EKS: one association per (cluster, namespace, service account).
CREATE UNIQUE INDEX IF NOT EXISTS associations_one_per_service_account
    ON associations (cluster, namespace, service_account);
";

/// The open database.
pub(crate) struct Database {
    connection: Connection,
}

impl Database {
    /// Opens (or creates) the database at `path`, readable by its owner only, with the schema in
    /// place except [`CONSTRAINTS`] (see [`Database::constrain`]).
    pub fn open(path: &Path) -> Result<Self, DatabaseError> {
        check_format(path)?;
        create_private(path)?;
        let connection = Connection::open(path)?;
        connection.busy_timeout(BUSY_TIMEOUT)?;
        let mode: String = connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(DatabaseError::NoWal(mode));
        }
        // A page cache of 32 MiB (SQLite's default is 2 MiB) keeps the indexes of 100,000 sessions in
        // memory, so that a write costs the same with a long history.
        connection.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -32768;")?;
        let version: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        match version {
            0 => connection.execute_batch(&format!("{TABLES} PRAGMA user_version = {SCHEMA_VERSION};"))?,
            SCHEMA_VERSION => connection.execute_batch(TABLES)?,
            other => return Err(DatabaseError::SchemaVersion(other)),
        }
        Ok(Self { connection })
    }

    /// Makes the constraints that [`Database::open`] leaves out (after the rows were checked).
    pub fn constrain(&self) -> Result<(), DatabaseError> {
        Ok(self.connection.execute_batch(CONSTRAINTS)?)
    }
}

/// Refuses a file that exists but is not a SQLite database, naming the old JSON state file.
fn check_format(path: &Path) -> Result<(), DatabaseError> {
    let mut start = Vec::with_capacity(SQLITE_HEADER.len());
    match std::fs::File::open(path) {
        Ok(file) => {
            use std::io::Read;
            file.take(SQLITE_HEADER.len() as u64).read_to_end(&mut start)?;
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(error.into()),
    }
    if start.is_empty() || start == SQLITE_HEADER {
        return Ok(());
    }
    if start.trim_ascii_start().starts_with(b"{") {
        return Err(DatabaseError::JsonStateFile);
    }
    Err(DatabaseError::NotSqlite)
}

/// Creates the file with mode 0600 if it is missing (SQLite gives its `-wal` and `-shm` files the
/// same mode), and takes group and other permissions away from an existing one.
fn create_private(path: &Path) -> Result<(), DatabaseError> {
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata()?.permissions().mode();
        if mode & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(mode & 0o700))?;
        }
    }
    Ok(())
}
