//! The rules of an append, written once for every backend: a retry is recognised by its
//! event ids, a deleted stream refuses, the expected version must hold, and an empty batch
//! writes nothing. (PostgreSQL's grouped appends apply the last three inside
//! `herald_append`, in SQL; an empty batch never reaches it.)

use uuid::Uuid;

use crate::envelope::NewEvent;
use crate::store::{Appended, Expected, StoreError, StreamInfo};

/// What an append may do once its stream's state is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Write the batch after `version`, the stream's current version.
    Write {
        /// The stream's current version.
        version: u64,
    },
    /// The batch is empty: nothing to write, this is the answer.
    Done(Appended),
}

/// Applies the rules to an append of `batch_len` events on a stream in state `info`
/// (`None`: it never existed).
pub(crate) fn admit(
    stream_id: &str,
    expected: Expected,
    info: Option<StreamInfo>,
    batch_len: usize,
) -> Result<Admission, StoreError> {
    let version = writable_version(stream_id, expected, info)?;
    if batch_len == 0 {
        return Ok(Admission::Done(Appended {
            stream_version: version,
            first_position: 0,
            last_position: 0,
            duplicate: false,
        }));
    }
    Ok(Admission::Write { version })
}

/// The stream's current version if it may be written (appended to or deleted): it is not
/// deleted and `expected` holds.
pub(crate) fn writable_version(
    stream_id: &str,
    expected: Expected,
    info: Option<StreamInfo>,
) -> Result<u64, StoreError> {
    if info.is_some_and(|info| info.deleted) {
        return Err(StoreError::StreamDeleted(stream_id.to_owned()));
    }
    let version = info.map_or(0, |info| info.version);
    expected.check(stream_id, version)?;
    Ok(version)
}

/// Checks that a batch whose first id is already stored is a retry of the same append:
/// every id stored, in this stream, at consecutive versions in batch order. `stored` holds
/// `(event_id, stream_id, stream_version, position)` for the ids found.
pub(crate) fn check_retry(
    stream_id: &str,
    events: &[NewEvent],
    stored: &[(Uuid, String, u64, u64)],
) -> Result<Option<Appended>, StoreError> {
    for (index, event) in events.iter().enumerate() {
        if events[..index]
            .iter()
            .any(|earlier| earlier.event_id == event.event_id)
        {
            return Err(StoreError::DuplicateEventId {
                event_id: event.event_id,
                stored_stream: stream_id.to_owned(),
            });
        }
    }
    if stored.is_empty() {
        return Ok(None);
    }
    let mut found = Vec::with_capacity(events.len());
    for event in events {
        let hit = stored.iter().find(|(id, ..)| *id == event.event_id);
        match hit {
            Some((_, stream, version, position)) if stream == stream_id => {
                found.push((*version, *position));
            }
            Some((id, stream, ..)) => {
                return Err(StoreError::DuplicateEventId {
                    event_id: *id,
                    stored_stream: stream.clone(),
                });
            }
            None => {
                let (id, stream, ..) = &stored[0];
                return Err(StoreError::DuplicateEventId {
                    event_id: *id,
                    stored_stream: stream.clone(),
                });
            }
        }
    }
    let consecutive = found.windows(2).all(|pair| pair[1].0 == pair[0].0 + 1);
    match (found.first(), found.last()) {
        (Some(first), Some(last)) if consecutive => Ok(Some(Appended {
            stream_version: last.0,
            first_position: first.1,
            last_position: last.1,
            duplicate: true,
        })),
        _ => {
            let (id, stream, ..) = &stored[0];
            Err(StoreError::DuplicateEventId {
                event_id: *id,
                stored_stream: stream.clone(),
            })
        }
    }
}
