//! Parsing of `#[event(...)]` attributes (and the few `#[serde(...)]` keys Herald must know
//! about) into plain values. Nothing here decides whether a combination is valid; that is
//! `check.rs`'s job.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, Ident, LitInt, LitStr, Path, Token, Type};

use crate::ctxt::Errors;

const CONTAINER_KEYS: &[&str] = &[
    "name",
    "version",
    "upcast_from",
    "try_upcast_from",
    "upcast_json",
    "breaking",
    "major",
];
const VARIANT_KEYS: &[&str] = &["rename"];

/// How a version reads the one before it.
pub(crate) enum Upcast {
    /// `upcast_from = Type`: `From<Type>`.
    From { key: Ident, previous: Type },
    /// `try_upcast_from = Type`: `TryFrom<Type>`.
    TryFrom { key: Ident, previous: Type },
    /// `upcast_json = path`: a `JsonUpcaster`.
    Json { key: Ident, function: Path },
}

impl Upcast {
    pub(crate) fn key(&self) -> &Ident {
        match self {
            Upcast::From { key, .. } | Upcast::TryFrom { key, .. } | Upcast::Json { key, .. } => {
                key
            }
        }
    }
}

/// `breaking` or `breaking = "reason"`: this version opens a new major.
pub(crate) struct Breaking {
    pub(crate) key: Ident,
    pub(crate) reason: Option<LitStr>,
}

/// The container's `#[event(...)]`.
#[derive(Default)]
pub(crate) struct ContainerAttrs {
    /// The `#[event]` attribute itself, for errors about what it lacks.
    pub(crate) attribute: Option<Attribute>,
    pub(crate) name: Option<LitStr>,
    pub(crate) version: Option<(LitInt, u32)>,
    pub(crate) upcast: Option<Upcast>,
    pub(crate) breaking: Option<Breaking>,
    /// `major = N`, with the key for errors.
    pub(crate) major: Option<(Ident, LitInt, u32)>,
    /// `#[serde(tag | untagged | content)]` keys, which change the enum's representation.
    pub(crate) serde_representation: Vec<Ident>,
    /// Keys written (misspelled ones under the key they resemble), so that a key with a bad
    /// value or a typo is not also reported as missing.
    pub(crate) given: Vec<&'static str>,
}

/// A variant's `#[event(...)]`.
#[derive(Default)]
pub(crate) struct VariantAttrs {
    pub(crate) rename: Option<LitStr>,
    /// `#[serde(skip | alias | other | untagged ...)]` keys, which shift serde's variant list.
    pub(crate) serde_shifting: Vec<Ident>,
}

fn is_event(attr: &Attribute) -> bool {
    attr.path().is_ident("event")
}

fn is_serde(attr: &Attribute) -> bool {
    attr.path().is_ident("serde")
}

/// Parses the container's attributes.
pub(crate) fn container(errors: &mut Errors, attrs: &[Attribute]) -> ContainerAttrs {
    let mut out = ContainerAttrs::default();
    for attr in attrs {
        if is_serde(attr) {
            out.serde_representation
                .extend(serde_keys(attr, &["tag", "untagged", "content"]));
            continue;
        }
        if !is_event(attr) {
            continue;
        }
        if out.attribute.is_some() {
            errors.spanned(
                attr,
                "duplicate `#[event(...)]`: put every key in one attribute",
            );
            continue;
        }
        out.attribute = Some(attr.clone());
        let parsed = attr.parse_nested_meta(|meta| {
            let key = key_of(&meta)?;
            let text = key.to_string();
            if let Some(known) = CONTAINER_KEYS.iter().find(|k| edit_distance(&text, k) <= 2) {
                out.given.push(known);
            }
            match text.as_str() {
                "name" => {
                    let value = string_value(errors, &meta, "name = \"order\"")?;
                    set(errors, &mut out.name, value, &key);
                }
                "version" => {
                    let value = integer_value(errors, &meta, "version = 1")?;
                    set(errors, &mut out.version, value, &key);
                }
                "major" => {
                    let value = integer_value(errors, &meta, "major = 2")?
                        .map(|(lit, major)| (key.clone(), lit, major));
                    set(errors, &mut out.major, value, &key);
                }
                "breaking" => {
                    // A bare flag, or a reason; a value that is not a string is reported and
                    // the key still counts as given.
                    let reason = if meta.input.peek(Token![=]) {
                        string_value(errors, &meta, "breaking = \"currency is required\"")?
                    } else {
                        None
                    };
                    let value = Some(Breaking {
                        key: key.clone(),
                        reason,
                    });
                    set(errors, &mut out.breaking, value, &key);
                }
                "upcast_from" | "try_upcast_from" => {
                    let previous: Type = meta.value()?.parse()?;
                    let upcast = if key == "upcast_from" {
                        Upcast::From {
                            key: key.clone(),
                            previous,
                        }
                    } else {
                        Upcast::TryFrom {
                            key: key.clone(),
                            previous,
                        }
                    };
                    set_upcast(errors, &mut out.upcast, upcast);
                }
                "upcast_json" => {
                    let function: Path = meta.value()?.parse()?;
                    let upcast = Upcast::Json {
                        key: key.clone(),
                        function,
                    };
                    set_upcast(errors, &mut out.upcast, upcast);
                }
                "rename" => {
                    skip_value(&meta);
                    errors.spanned(
                        &key,
                        "`rename` goes on a variant; the enum's event types are `<name>.<variant>`, so set the common part with `name = \"...\"`",
                    );
                }
                other => {
                    skip_value(&meta);
                    errors.spanned(&key, unknown_key(other, CONTAINER_KEYS, "the enum or struct"));
                }
            }
            Ok(())
        });
        if let Err(err) = parsed {
            errors.push(parse_error(
                err,
                attr,
                "#[event(name = \"order\", version = 1)]",
            ));
        }
    }
    out
}

/// Parses a variant's attributes.
pub(crate) fn variant(errors: &mut Errors, attrs: &[Attribute]) -> VariantAttrs {
    let mut out = VariantAttrs::default();
    for attr in attrs {
        if is_serde(attr) {
            out.serde_shifting.extend(serde_keys(
                attr,
                &[
                    "skip",
                    "skip_deserializing",
                    "skip_serializing",
                    "alias",
                    "other",
                    "untagged",
                ],
            ));
            continue;
        }
        if !is_event(attr) {
            continue;
        }
        let parsed = attr.parse_nested_meta(|meta| {
            let key = key_of(&meta)?;
            match key.to_string().as_str() {
                "rename" => {
                    let value = string_value(errors, &meta, "rename = \"shipped\"")?;
                    set(errors, &mut out.rename, value, &key);
                }
                container @ ("name" | "version" | "upcast_from" | "try_upcast_from"
                | "upcast_json" | "breaking" | "major") => {
                    skip_value(&meta);
                    errors.spanned(
                        &key,
                        format!(
                            "`{container}` belongs in the `#[event(...)]` on the enum, not on a variant; a variant takes only `rename = \"...\"`"
                        ),
                    );
                }
                other => {
                    skip_value(&meta);
                    errors.spanned(&key, unknown_key(other, VARIANT_KEYS, "a variant"));
                }
            }
            Ok(())
        });
        if let Err(err) = parsed {
            errors.push(parse_error(err, attr, "#[event(rename = \"shipped\")]"));
        }
    }
    out
}

/// `tags("PII", ...)` on a field: its Confluent data-contract tags.
pub(crate) struct FieldAttrs {
    /// The tags, in the order written, without duplicates.
    pub(crate) tags: Vec<String>,
    /// The `tags` key, for errors about where it stands.
    pub(crate) key: Option<Ident>,
    /// The field's `#[serde(rename = "...")]`, its name in the payload.
    pub(crate) serde_rename: Option<String>,
}

/// Parses a field's attributes: `#[event(tags("PII", ...))]` and `#[serde(rename)]`.
pub(crate) fn field(errors: &mut Errors, attrs: &[Attribute]) -> FieldAttrs {
    let mut out = FieldAttrs {
        tags: Vec::new(),
        key: None,
        serde_rename: None,
    };
    for attr in attrs {
        if is_serde(attr) {
            let _ = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") && meta.input.peek(Token![=]) {
                    let lit: LitStr = meta.value()?.parse()?;
                    out.serde_rename = Some(lit.value());
                } else {
                    skip_value(&meta);
                }
                Ok(())
            });
            continue;
        }
        if !is_event(attr) {
            continue;
        }
        let parsed = attr.parse_nested_meta(|meta| {
            let key = key_of(&meta)?;
            if key != "tags" {
                skip_value(&meta);
                errors.spanned(
                    &key,
                    format!(
                        "unknown `event` attribute `{key}` on a field: a field takes only `tags(\"PII\")`; rename or default fields with `#[serde(...)]`"
                    ),
                );
                return Ok(());
            }
            if out.key.is_some() {
                errors.spanned(&key, "duplicate `tags`: list every tag in one `tags(...)`");
            }
            let content;
            syn::parenthesized!(content in meta.input);
            let lits = content.parse_terminated(<LitStr as syn::parse::Parse>::parse, Token![,])?;
            if lits.is_empty() {
                errors.spanned(&key, "`tags()` is empty: name at least one tag, `tags(\"PII\")`");
            }
            for lit in lits {
                let tag = lit.value();
                if !is_tag(&tag) {
                    errors.spanned(
                        &lit,
                        "a tag is a letter followed by letters, digits, `_` or `-`, such as `PII`",
                    );
                } else if !out.tags.contains(&tag) {
                    out.tags.push(tag);
                }
            }
            out.key = Some(key);
            Ok(())
        });
        if let Err(err) = parsed {
            errors.push(parse_error(err, attr, "#[event(tags(\"PII\"))]"));
        }
    }
    out
}

/// `[A-Za-z][A-Za-z0-9_-]*`.
fn is_tag(tag: &str) -> bool {
    let mut chars = tag.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn key_of(meta: &ParseNestedMeta<'_>) -> syn::Result<Ident> {
    meta.path
        .get_ident()
        .cloned()
        .ok_or_else(|| meta.error("expected a key such as `name`, `version` or `rename`"))
}

fn set<T>(errors: &mut Errors, slot: &mut Option<T>, value: Option<T>, key: &Ident) {
    if slot.is_some() {
        errors.spanned(key, format!("duplicate `{key}`: give it once"));
    } else if value.is_some() {
        *slot = value;
    }
}

fn set_upcast(errors: &mut Errors, slot: &mut Option<Upcast>, upcast: Upcast) {
    match slot {
        Some(first) => errors.spanned(
            upcast.key(),
            format!(
                "`{}` is already given; a version reads the previous one in one way: keep either `{}` or `{}`",
                first.key(),
                first.key(),
                upcast.key()
            ),
        ),
        None => *slot = Some(upcast),
    }
}

/// `key = "text"`; a value of another kind is reported (at its span) and skipped.
fn string_value(
    errors: &mut Errors,
    meta: &ParseNestedMeta<'_>,
    example: &str,
) -> syn::Result<Option<LitStr>> {
    let value: Expr = meta.value()?.parse()?;
    match value {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(lit),
            ..
        }) => Ok(Some(lit)),
        other => {
            errors.spanned(&other, format!("expected a string literal: `{example}`"));
            Ok(None)
        }
    }
}

/// `key = N` with N an integer literal that fits in a u32; `example` is the key with a
/// sample value (`version = 1`).
fn integer_value(
    errors: &mut Errors,
    meta: &ParseNestedMeta<'_>,
    example: &str,
) -> syn::Result<Option<(LitInt, u32)>> {
    let key = example.split(' ').next().unwrap_or(example);
    let value: Expr = meta.value()?.parse()?;
    let lit = match value {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(lit),
            ..
        }) => lit,
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(text),
            ..
        }) => {
            errors.spanned(
                &text,
                format!(
                    "expected an integer, not a string: `{key} = {}`",
                    text.value()
                ),
            );
            return Ok(None);
        }
        other => {
            errors.spanned(&other, format!("expected an integer literal: `{example}`"));
            return Ok(None);
        }
    };
    match lit.base10_parse::<u32>() {
        Ok(number) => Ok(Some((lit, number))),
        Err(_) => {
            errors.spanned(&lit, format!("the {key} must fit in a u32: `{example}`"));
            Ok(None)
        }
    }
}

/// Consumes `= value` or `(...)` after an unknown key so parsing can go on.
fn skip_value(meta: &ParseNestedMeta<'_>) {
    if meta.input.peek(Token![=]) {
        let _ = meta.value().and_then(|value| value.parse::<Expr>());
    } else if meta.input.peek(syn::token::Paren) {
        let _ = meta.parse_nested_meta(|inner| {
            skip_value(&inner);
            Ok(())
        });
    }
}

fn unknown_key(key: &str, known: &[&str], place: &str) -> String {
    let expected = known
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match known.iter().find(|k| edit_distance(key, k) <= 2) {
        Some(close) => format!(
            "unknown `event` attribute `{key}`: did you mean `{close}`? (on {place}: {expected})"
        ),
        None => format!("unknown `event` attribute `{key}`; on {place} use {expected}"),
    }
}

/// Replaces syn's generic parse errors with one that shows the expected form.
fn parse_error(err: syn::Error, attr: &Attribute, example: &str) -> syn::Error {
    match &attr.meta {
        syn::Meta::List(_) => err,
        other => syn::Error::new(other.span(), format!("expected `{example}`")),
    }
}

/// The keys among `wanted` in a `#[serde(...)]` attribute. Malformed serde attributes are
/// serde's to report.
fn serde_keys(attr: &Attribute, wanted: &[&str]) -> Vec<Ident> {
    let mut found = Vec::new();
    let _ = attr.parse_nested_meta(|meta| {
        if let Some(key) = meta.path.get_ident()
            && wanted.iter().any(|w| key == w)
        {
            found.push(key.clone());
        }
        skip_value(&meta);
        Ok(())
    });
    found
}

/// Levenshtein distance, for "did you mean" hints.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

/// A span for errors about a missing key: the parentheses of `#[event(...)]`.
pub(crate) fn attribute_span(attrs: &ContainerAttrs, fallback: Span) -> Span {
    match attrs.attribute.as_ref().map(|attr| &attr.meta) {
        Some(syn::Meta::List(list)) => list.delimiter.span().join(),
        Some(other) => other.span(),
        None => fallback,
    }
}

#[cfg(test)]
mod tests {
    use super::edit_distance;

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("version", "version"), 0);
        assert_eq!(edit_distance("versoin", "version"), 2);
        assert_eq!(edit_distance("vesion", "version"), 1);
        assert_eq!(edit_distance("", "name"), 4);
    }
}
