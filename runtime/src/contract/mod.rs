//! Confluent data contracts at run time.
//!
//! A stub for now: it will be merged with the rule-running seam (the rule executor trait the
//! relay and the consumer call), which adopts [`cel`] as the executor of CEL rules.

#[cfg(feature = "rules")]
pub mod cel;
