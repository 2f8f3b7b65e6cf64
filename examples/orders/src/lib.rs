//! Three versions of an order event, and a customer event whose first version only survives
//! as JSON.
//!
//! | version | change |
//! |---------|--------|
//! | [`v1::OrderEventV1`] | `placed` (items), `cancelled`, `shipped` |
//! | [`v2::OrderEventV2`] | `items` renamed `lines`; `currency`, line prices and a cancel `reason` added; `shipped` merged into `status_changed` |
//! | [`v3::OrderEvent`]   | `status_changed` split into `shipped` (`Dispatched`, with a carrier) and `delivered`; a placed order must have lines |
//!
//! Snapshots and golden events live in the repository's `schemas/order/` and
//! `schemas/customer/`.

pub mod customer;
pub mod v1;
pub mod v2;
pub mod v3;

pub use customer::CustomerRegistered;
pub use v3::OrderEvent;

/// The directory holding the committed snapshots (`<repo>/schemas`).
pub const SCHEMAS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../schemas");
