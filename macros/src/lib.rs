//! Derive macros for Herald. Users depend on the `herald` crate, which re-exports them.
