//! Derive macros for Herald. Users depend on the `herald` crate, which re-exports them and
//! documents the attributes.
//!
//! The derive is a pipeline in the manner of serde_derive: `attr.rs` parses attributes,
//! `ast.rs` builds a typed model, `check.rs` validates it (collecting every error), and
//! `expand.rs` generates code for a valid model only.

// Input-handling library code reports errors; it never unwraps or panics on them.
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod ast;
mod attr;
mod case;
mod check;
mod ctxt;
mod expand;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Implements `herald::Event`; see the `herald` crate for the `#[event(...)]` attributes.
#[proc_macro_derive(Event, attributes(event))]
pub fn derive_event(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    derive(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

fn derive(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let mut errors = ctxt::Errors::default();
    let container = ast::Container::from_ast(&mut errors, input);
    let event = check::check(&mut errors, &container);
    errors.finish()?;
    match event {
        Some(event) => Ok(expand::expand(&event)),
        None => Err(syn::Error::new_spanned(
            &input.ident,
            "invalid `#[derive(Event)]` input",
        )),
    }
}
