//! How the store's unsigned numbers meet SQL's signed columns.
//!
//! Versions and positions are `BIGINT` (at most `i64::MAX`), schema versions and attempts
//! `INTEGER` (at most `i32::MAX`). Nothing is clamped: a value given to the store beyond
//! its column is [`StoreError::OutOfRange`] (in every backend, the memory one included, so
//! they all refuse alike), and a stored value that is negative is [`StoreError::Corrupt`].

use std::time::{SystemTime, UNIX_EPOCH};

use crate::envelope::NewEvent;
use crate::store::{Expected, StoreError};

/// `value` as a `BIGINT`, or [`StoreError::OutOfRange`] naming `what`.
pub(crate) fn to_i64(value: u64, what: &'static str) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| out_of_range(what, value, i64::MAX as u64))
}

/// `value` as an `INTEGER`, or [`StoreError::OutOfRange`] naming `what`.
pub(crate) fn to_i32(value: u32, what: &'static str) -> Result<i32, StoreError> {
    i32::try_from(value).map_err(|_| out_of_range(what, value.into(), i32::MAX as u64))
}

/// `time` as microseconds since the Unix epoch (how the SQL stores keep timestamps), or
/// [`StoreError::OutOfRange`] naming `what` for a time more than `i64::MAX` microseconds
/// (about 292,000 years) from 1970.
pub(crate) fn to_micros(time: SystemTime, what: &'static str) -> Result<i64, StoreError> {
    let (micros, before_epoch) = match time.duration_since(UNIX_EPOCH) {
        Ok(since) => (since.as_micros(), false),
        Err(before) => (before.duration().as_micros(), true),
    };
    match i64::try_from(micros) {
        Ok(micros) if before_epoch => Ok(-micros),
        Ok(micros) => Ok(micros),
        Err(_) => Err(out_of_range(
            what,
            u64::try_from(micros).unwrap_or(u64::MAX),
            i64::MAX as u64,
        )),
    }
}

/// A stored `BIGINT` read back, or [`StoreError::Corrupt`] if it is negative.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn from_i64(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("negative {what}: {value}")))
}

/// A stored `INTEGER` read back, or [`StoreError::Corrupt`] if it is negative.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn from_i32(value: i32, what: &str) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("negative {what}: {value}")))
}

/// A row limit as a `LIMIT`: one above `i64::MAX` reads the same as `i64::MAX`, as no
/// table holds more rows, so saturating here loses nothing (`usize::MAX` means "all").
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn limit(value: usize) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Refuses an append whose expected version or events' schema versions no column can hold.
pub(crate) fn check_append(expected: Expected, events: &[NewEvent]) -> Result<(), StoreError> {
    if let Expected::Exact(version) = expected {
        to_i64(version, "expected version")?;
    }
    for event in events {
        to_i32(event.schema_version, "schema version")?;
    }
    Ok(())
}

fn out_of_range(what: &'static str, value: u64, max: u64) -> StoreError {
    StoreError::OutOfRange { what, value, max }
}
