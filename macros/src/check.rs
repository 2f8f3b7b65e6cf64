//! Rules across the parsed model. Produces the validated [`Event`] that `expand.rs` turns
//! into code, or records every error found.

use std::collections::BTreeMap;

use syn::{Ident, LitStr};

use crate::ast::{Container, Data, Shape, TaggedField};
use crate::attr::{ContainerAttrs, Upcast, attribute_span};
use crate::case::snake_case;
use crate::ctxt::Errors;

/// A valid event, ready to expand.
pub(crate) struct Event<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) name: String,
    pub(crate) version: u32,
    pub(crate) upcast: Option<&'a Upcast>,
    /// `Some(reason)` (empty when none is given) for a version declared `breaking`.
    pub(crate) breaking: Option<String>,
    /// This version's major when the chain cannot compute it: 1 for version 1, the declared
    /// (or default) one with `upcast_json`; `None` with `upcast_from`/`try_upcast_from`.
    pub(crate) major: Option<u32>,
    pub(crate) kind: Kind<'a>,
    /// The fields with data-contract tags.
    pub(crate) tagged: &'a [TaggedField],
}

/// Enum (one event type per variant) or struct (one event type).
pub(crate) enum Kind<'a> {
    Enum(Vec<EventType<'a>>),
    Struct,
}

/// One variant and its event type.
pub(crate) struct EventType<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) event_type: String,
}

/// Checks `container`, returning the event when every rule holds.
pub(crate) fn check<'a>(errors: &mut Errors, container: &'a Container<'a>) -> Option<Event<'a>> {
    let attrs = &container.attrs;
    let attribute = attribute_span(attrs, container.ident.span());
    if attrs.attribute.is_none() {
        errors.spanned(
            container.ident,
            "`#[derive(Event)]` needs `#[event(name = \"...\", version = N)]` on the type",
        );
        return None;
    }

    if !container.generics.params.is_empty() || container.generics.where_clause.is_some() {
        errors.spanned(
            container.generics,
            "an event cannot be generic: each version is one concrete type with fixed schemas; remove the type parameters (use concrete field types)",
        );
    }

    let name = match &attrs.name {
        Some(lit) => check_name(errors, lit),
        None if attrs.given.contains(&"name") => None,
        None => {
            errors.at(
                attribute,
                "missing `name = \"...\"`: every version of an event shares a name, e.g. `#[event(name = \"order\", version = 1)]`",
            );
            None
        }
    };

    let version = match &attrs.version {
        Some((lit, 0)) => {
            errors.spanned(lit, "versions start at 1: write `version = 1`");
            None
        }
        Some((lit, version)) => {
            check_upcast(errors, *version, lit, attrs);
            Some(*version)
        }
        None if attrs.given.contains(&"version") => None,
        None => {
            errors.at(
                attribute,
                "missing `version = N`: the first version of an event is `version = 1`",
            );
            None
        }
    };

    for key in &attrs.serde_representation {
        errors.spanned(
            key,
            format!(
                "Herald stores each variant's fields and takes the variant from the event type, so the enum must keep serde's default (externally tagged) form: remove `{key}` from `#[serde(...)]`"
            ),
        );
    }

    let kind = match &container.data {
        Data::Union(span) => {
            errors.at(
                *span,
                "unions cannot be events; use an enum (one event type per variant) or a struct",
            );
            None
        }
        Data::Struct(Shape::Named, _) => Some(Kind::Struct),
        Data::Struct(_, span) => {
            errors.at(
                *span,
                "a struct event needs named fields, which become the payload's fields: `struct OrderPlaced { order_id: String }`",
            );
            None
        }
        Data::Enum(variants) if variants.is_empty() => {
            errors.spanned(
                container.ident,
                "an event enum needs at least one variant: each variant is one event type",
            );
            None
        }
        Data::Enum(variants) => {
            let mut types = Vec::with_capacity(variants.len());
            let mut seen: BTreeMap<String, &Ident> = BTreeMap::new();
            for variant in variants {
                if let Shape::Tuple(count) = variant.shape
                    && count != 1
                {
                    errors.at(
                        variant.fields_span,
                        "a tuple variant with several fields has no field names to store; use named fields: `Variant { a: A, b: B }` (or one field wrapping a struct)",
                    );
                }
                for key in &variant.attrs.serde_shifting {
                    errors.spanned(
                        key,
                        format!(
                            "`#[serde({key})]` on a variant changes serde's list of variants, which Herald maps to event types one to one; remove it (the event type already chooses the variant)"
                        ),
                    );
                }
                let suffix = match &variant.attrs.rename {
                    Some(lit) => check_rename(errors, lit),
                    None => Some(snake_case(&variant.ident.to_string())),
                };
                let (Some(name), Some(suffix)) = (&name, suffix) else {
                    continue;
                };
                let event_type = format!("{name}.{suffix}");
                if let Some(first) = seen.get(&event_type) {
                    let message = format!(
                        "event type `{event_type}` is already used by variant `{first}`; give one of them another `#[event(rename = \"...\")]`"
                    );
                    match &variant.attrs.rename {
                        Some(lit) => errors.spanned(lit, message),
                        None => errors.spanned(variant.ident, message),
                    }
                    continue;
                }
                seen.insert(event_type.clone(), variant.ident);
                types.push(EventType {
                    ident: variant.ident,
                    event_type,
                });
            }
            Some(Kind::Enum(types))
        }
    };

    let breaking = check_breaking(errors, attrs);
    let version = version?;
    let major = check_major(errors, version, attrs);

    Some(Event {
        ident: container.ident,
        name: name?,
        version,
        upcast: attrs.upcast.as_ref(),
        breaking: breaking?,
        major: major?,
        kind: kind?,
        tagged: &container.tagged,
    })
}

/// `name` segments: `[a-z_][a-z0-9_]*`, joined by `.` (it doubles as the Avro namespace).
fn check_name(errors: &mut Errors, lit: &LitStr) -> Option<String> {
    let name = lit.value();
    if !name.is_empty() && name.split('.').all(is_segment) {
        return Some(name);
    }
    errors.spanned(
        lit,
        format!(
            "`{name}` is not a valid event name: use lowercase ASCII letters, digits and `_`, in segments separated by `.`, e.g. `name = \"order\"` or `name = \"shop.order\"`"
        ),
    );
    None
}

fn check_rename(errors: &mut Errors, lit: &LitStr) -> Option<String> {
    let rename = lit.value();
    if is_segment(&rename) {
        return Some(rename);
    }
    errors.spanned(
        lit,
        format!(
            "`{rename}` cannot end an event type: use lowercase ASCII letters, digits and `_`, e.g. `rename = \"shipped\"`"
        ),
    );
    None
}

fn is_segment(segment: &str) -> bool {
    let mut chars = segment.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Version 1 reads nothing older; every later version must say how it reads the previous,
/// a breaking one too.
fn check_upcast(errors: &mut Errors, version: u32, lit: &syn::LitInt, attrs: &ContainerAttrs) {
    match (version, &attrs.upcast, &attrs.breaking) {
        (1, Some(upcast), _) => errors.spanned(
            upcast.key(),
            format!(
                "version 1 is the first version and has nothing to upcast from: remove `{}`",
                upcast.key()
            ),
        ),
        (1, None, Some(breaking)) => errors.spanned(
            &breaking.key,
            "version 1 is the first version and has nothing to break from: remove `breaking`",
        ),
        (1, None, None) | (_, Some(_), _) => {}
        (version, None, Some(breaking)) => errors.spanned(
            &breaking.key,
            format!(
                "a breaking version still reads the events stored before it: version {version} must upcast stored version {} events to its new shape with `upcast_from = <the version {} type>` (or `try_upcast_from = ...`, or `upcast_json = <fn>` if that type no longer exists)",
                version - 1,
                version - 1
            ),
        ),
        (version, None, None) => errors.spanned(
            lit,
            format!(
                "version {version} must say how to read stored version {} events: add `upcast_from = <the version {} type>` (or `try_upcast_from = ...`, or `upcast_json = <fn>` if that type no longer exists)",
                version - 1,
                version - 1
            ),
        ),
    }
}

/// `breaking` or `breaking = "reason"`: `Some(None)` when absent, `Some(Some(reason))` when
/// given (an empty reason for the bare flag), `None` after an error.
fn check_breaking(errors: &mut Errors, attrs: &ContainerAttrs) -> Option<Option<String>> {
    let Some(breaking) = &attrs.breaking else {
        return Some(None);
    };
    match &breaking.reason {
        None => Some(Some(String::new())),
        Some(lit) if lit.value().trim().is_empty() => {
            errors.spanned(
                lit,
                "the reason is empty: say what breaks, e.g. `breaking = \"currency is required\"`, or write `breaking` alone",
            );
            None
        }
        Some(lit) => Some(Some(lit.value())),
    }
}

/// The major to generate when the chain cannot compute it (see [`Event::major`]);
/// `Some(None)` when it can, `None` after an error.
fn check_major(errors: &mut Errors, version: u32, attrs: &ContainerAttrs) -> Option<Option<u32>> {
    let breaking = attrs.breaking.as_ref();
    match (version, &attrs.upcast, &attrs.major) {
        (1, _, Some((key, _, _))) => {
            errors.spanned(key, "version 1 is always in major 1: remove `major`");
            None
        }
        (1, _, None) => Some(Some(1)),
        (
            _,
            Some(Upcast::From { previous, .. } | Upcast::TryFrom { previous, .. }),
            Some((key, _, _)),
        ) => {
            let previous = quote::ToTokens::to_token_stream(previous)
                .to_string()
                .replace(' ', "");
            errors.spanned(
                key,
                format!(
                    "the major is computed from the chain here (the major of `{previous}`, plus one if this version is `breaking`): remove `major`"
                ),
            );
            None
        }
        (_, Some(Upcast::From { .. } | Upcast::TryFrom { .. }), None) => Some(None),
        (_, Some(Upcast::Json { .. }), Some((_, lit, major))) => {
            let major = *major;
            if major == 0 {
                errors.spanned(lit, "majors start at 1: version 1 is in major 1");
                None
            } else if major > version {
                errors.spanned(
                    lit,
                    format!(
                        "version {version} can be in major {version} at most: each breaking version after version 1 opens the next major"
                    ),
                );
                None
            } else if major == 1 && breaking.is_some() {
                errors.spanned(
                    lit,
                    "a breaking version opens a new major, so it cannot be in major 1: write the major it opens, e.g. `major = 2`",
                );
                None
            } else {
                Some(Some(major))
            }
        }
        (_, Some(Upcast::Json { key, .. }), None) => match breaking {
            Some(breaking) => {
                errors.spanned(
                    &breaking.key,
                    format!(
                        "`breaking` with `{key}` needs `major = N`: the older versions' types are gone, so Herald cannot count the breaking versions before this one; write the major this version opens, e.g. `major = 2`"
                    ),
                );
                None
            }
            // Documented rule: without `major`, a JSON-upcast version is in major 1.
            None => Some(Some(1)),
        },
        // The missing upcaster is already reported.
        (_, None, _) => None,
    }
}
