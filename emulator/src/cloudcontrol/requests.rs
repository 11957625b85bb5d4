//! The resource operation requests Cloud Control has taken, in memory: their events (for GetResourceRequestStatus
//! and ListResourceRequests), the client tokens that made them (idempotency), and the resources they are running on
//! (one request at a time per resource).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tokio::task::AbortHandle;

use super::CloudControlError;
use super::input::StatusFilter;
use super::progress::{OperationStatus, ProgressEvent};
use crate::clock::now_epoch_seconds;

/// At most this many requests are kept; past it the oldest finished ones are forgotten, with their client tokens.
const MAX_KEPT: usize = 10_000;

#[derive(Default)]
pub(super) struct Requests {
    book: Mutex<Book>,
}

#[derive(Default)]
struct Book {
    next_sequence: u64,
    /// By sequence, oldest first.
    records: BTreeMap<u64, Record>,
    by_token: HashMap<String, u64>,
    /// (owner, client token) → the request it made.
    client_tokens: HashMap<(String, String), u64>,
}

struct Record {
    /// The account and region the request was made in: requests are seen from there only, as Cloud Control is
    /// regional.
    owner: String,
    client_token: Option<String>,
    /// What the request asked, so that a retry with its client token can be told from another request.
    fingerprint: String,
    /// The resource it runs on (type and identifier), when known before it ends.
    resource: Option<String>,
    event: ProgressEvent,
    abort: Option<AbortHandle>,
}

/// A request about to be taken.
pub(super) struct NewRequest<'a> {
    pub owner: &'a str,
    pub client_token: Option<&'a str>,
    pub fingerprint: String,
    pub resource: Option<String>,
    pub event: ProgressEvent,
}

/// What taking a request did.
pub(super) enum Taken {
    /// A new request, to be run.
    New(ProgressEvent),
    /// A retry of the request of the same client token: its event as it is now.
    Retried(ProgressEvent),
}

/// How a request ended: the identifier and model (JSON), or the handler's error code and message.
pub(super) type Outcome = Result<(String, Option<String>), (String, String)>;

impl Requests {
    fn book(&self) -> MutexGuard<'_, Book> {
        // The book stays consistent between statements; a panicking holder leaves it usable.
        self.book.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes `request`, unless its client token made another request or another request runs on its resource.
    pub fn take(&self, request: NewRequest<'_>) -> Result<Taken, CloudControlError> {
        let mut book = self.book();
        if let Some(token) = request.client_token {
            let key = (request.owner.to_owned(), token.to_owned());
            if let Some(record) = book.client_tokens.get(&key).and_then(|seq| book.records.get(seq)) {
                if record.fingerprint == request.fingerprint {
                    return Ok(Taken::Retried(record.event.clone()));
                }
                return Err(CloudControlError::new(
                    "ClientTokenConflictException",
                    format!("Client token {token} has already been used in another resource request"),
                ));
            }
        }
        if let Some(resource) = &request.resource
            && let Some(running) = book.records.values().find(|record| {
                record.owner == request.owner
                    && record.resource.as_ref() == Some(resource)
                    && record.event.operation_status.is_active()
            })
        {
            return Err(CloudControlError::new(
                "ConcurrentOperationException",
                format!(
                    "Another resource operation (RequestToken {}) is currently being performed on this resource",
                    running.event.request_token
                ),
            ));
        }
        let sequence = book.next_sequence;
        book.next_sequence += 1;
        book.by_token.insert(request.event.request_token.clone(), sequence);
        if let Some(token) = request.client_token {
            book.client_tokens
                .insert((request.owner.to_owned(), token.to_owned()), sequence);
        }
        let event = request.event.clone();
        book.records.insert(
            sequence,
            Record {
                owner: request.owner.to_owned(),
                client_token: request.client_token.map(str::to_owned),
                fingerprint: request.fingerprint,
                resource: request.resource,
                event: request.event,
                abort: None,
            },
        );
        book.forget_oldest();
        Ok(Taken::New(event))
    }

    /// Keeps the task running request `token`, for a cancel.
    pub fn running(&self, token: &str, abort: AbortHandle) {
        let mut book = self.book();
        if let Some(record) = book.record_mut(token) {
            if record.event.operation_status.is_active() {
                record.abort = Some(abort);
            } else {
                // Canceled before its task was kept.
                abort.abort();
            }
        }
    }

    /// Records how request `token` ended, unless it was canceled meanwhile.
    pub fn finish(&self, token: &str, outcome: Outcome) {
        let mut book = self.book();
        let Some(record) = book.record_mut(token) else {
            return;
        };
        if record.event.operation_status != OperationStatus::InProgress {
            return;
        }
        record.abort = None;
        let event = &mut record.event;
        event.event_time = now_epoch_seconds();
        match outcome {
            Ok((identifier, model)) => {
                event.operation_status = OperationStatus::Success;
                event.identifier = Some(identifier);
                event.resource_model = model;
            }
            Err((code, message)) => {
                event.operation_status = OperationStatus::Failed;
                event.error_code = Some(code);
                event.status_message = Some(message);
            }
        }
    }

    /// The event of request `token` of `owner`.
    pub fn get(&self, owner: &str, token: &str) -> Option<ProgressEvent> {
        let book = self.book();
        let sequence = book.by_token.get(token)?;
        book.records
            .get(sequence)
            .filter(|record| record.owner == owner)
            .map(|record| record.event.clone())
    }

    /// Up to `max` events of `owner`'s requests matching `filter`, newest first, from the page after
    /// `next_token`; and the token of the page after, if any.
    pub fn list(
        &self,
        owner: &str,
        filter: &StatusFilter,
        next_token: Option<&str>,
        max: usize,
    ) -> Result<(Vec<ProgressEvent>, Option<String>), CloudControlError> {
        let before = next_token.map(decode_token).transpose()?.unwrap_or(u64::MAX);
        let book = self.book();
        let mut matching = book
            .records
            .range(..before)
            .rev()
            .filter(|(_, record)| record.owner == owner && filter.admits(&record.event));
        let page: Vec<(u64, ProgressEvent)> = matching
            .by_ref()
            .take(max)
            .map(|(sequence, record)| (*sequence, record.event.clone()))
            .collect();
        let next = match (matching.next(), page.last()) {
            (Some(_), Some((last, _))) => Some(STANDARD.encode(last.to_string())),
            _ => None,
        };
        Ok((page.into_iter().map(|(_, event)| event).collect(), next))
    }

    /// Cancels request `token` of `owner`: its task stops, and it is CANCEL_COMPLETE. The event answered
    /// is CANCEL_IN_PROGRESS, as Cloud Control answers a cancel.
    pub fn cancel(&self, owner: &str, token: &str) -> Result<ProgressEvent, CloudControlError> {
        let mut book = self.book();
        let record = book
            .record_mut(token)
            .filter(|record| record.owner == owner)
            .ok_or_else(|| CloudControlError::request_token_not_found(token))?;
        if record.event.operation_status != OperationStatus::InProgress {
            return Err(CloudControlError::new(
                "ConcurrentModificationException",
                format!(
                    "Request {token} is {} and can no longer be canceled",
                    record.event.operation_status.name()
                ),
            ));
        }
        if let Some(abort) = record.abort.take() {
            abort.abort();
        }
        record.event.operation_status = OperationStatus::CancelComplete;
        record.event.event_time = now_epoch_seconds();
        let mut answer = record.event.clone();
        answer.operation_status = OperationStatus::CancelInProgress;
        Ok(answer)
    }
}

impl Book {
    fn record_mut(&mut self, token: &str) -> Option<&mut Record> {
        let sequence = *self.by_token.get(token)?;
        self.records.get_mut(&sequence)
    }

    fn forget_oldest(&mut self) {
        while self.records.len() > MAX_KEPT {
            let Some(sequence) = self
                .records
                .iter()
                .find(|(_, record)| !record.event.operation_status.is_active())
                .map(|(sequence, _)| *sequence)
            else {
                return;
            };
            if let Some(record) = self.records.remove(&sequence) {
                self.by_token.remove(&record.event.request_token);
                if let Some(token) = record.client_token {
                    self.client_tokens.remove(&(record.owner, token));
                }
            }
        }
    }
}

fn decode_token(token: &str) -> Result<u64, CloudControlError> {
    STANDARD
        .decode(token)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| CloudControlError::invalid_request("The NextToken provided is invalid."))
}

impl StatusFilter {
    fn admits(&self, event: &ProgressEvent) -> bool {
        (self.operations.is_empty() || self.operations.iter().any(|name| name == event.operation.name()))
            && (self.operation_statuses.is_empty()
                || self
                    .operation_statuses
                    .iter()
                    .any(|name| name == event.operation_status.name()))
    }
}
