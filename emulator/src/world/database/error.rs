//! Why the state database cannot be used.

use super::SCHEMA_VERSION;

#[derive(Debug, thiserror::Error)]
pub(crate) enum DatabaseError {
    #[error(
        "it is a JSON state file of an earlier emulator; the state is now kept in a SQLite database: \
         move the file away or name another state_file (its world is not imported)"
    )]
    JsonStateFile,
    #[error("it is not a SQLite database")]
    NotSqlite,
    #[error("schema version {0} (this emulator reads version {SCHEMA_VERSION})")]
    SchemaVersion(i64),
    #[error("its journal mode cannot be WAL (SQLite answered {0:?})")]
    NoWal(String),
    #[error(
        "cluster {cluster} has two Pod Identity associations for service account \
         {namespace}/{service_account}: {first} and {second} (EKS allows one)"
    )]
    DuplicateAssociation {
        cluster: String,
        namespace: String,
        service_account: String,
        first: String,
        second: String,
    },
    #[error("the row {key} of table {table} does not hold a valid record: {message}")]
    InvalidRow {
        table: &'static str,
        key: String,
        message: String,
    },
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}
