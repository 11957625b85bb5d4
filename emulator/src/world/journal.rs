//! What a change touched: the data layer's mutators record the key of every row they change, and the
//! store writes exactly those rows (from memory, or deletes them when they are gone) in the change's
//! transaction. A new kind of saved entity is a new [`Row`] variant, its table in the schema and its arm
//! in the database's writer and loader.

use std::collections::BTreeSet;

/// The key of one saved row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Row {
    /// A cluster's own fields (tags, next list position, signing key), by cluster name.
    Cluster(String),
    Association {
        cluster: String,
        id: String,
    },
    /// A create's client request token.
    CreateToken {
        cluster: String,
        token: String,
    },
    /// An update's client request token, per association.
    UpdateToken {
        cluster: String,
        association_id: String,
        token: String,
    },
    /// An IAM role, by account and lower-cased name (names are unique per account whatever their case).
    Role {
        account_id: String,
        name: String,
    },
    /// Temporary credentials, by access key id.
    Session(String),
    /// A customer managed policy, by ARN.
    Policy(String),
    /// A CloudFormation stack, by id.
    Stack(String),
}

/// The rows changed since the last commit.
#[derive(Debug, Default)]
pub(crate) struct Journal(BTreeSet<Row>);

impl Journal {
    pub fn record(&mut self, row: Row) {
        self.0.insert(row);
    }

    /// The rows recorded, leaving the journal empty.
    pub fn take(&mut self) -> BTreeSet<Row> {
        std::mem::take(&mut self.0)
    }
}
