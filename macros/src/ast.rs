//! A small typed model of the derive input, with attributes already parsed.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{DeriveInput, Field, Fields, Generics, Ident};

use crate::attr::{self, ContainerAttrs, VariantAttrs};
use crate::ctxt::Errors;

/// The annotated type.
pub(crate) struct Container<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) attrs: ContainerAttrs,
    pub(crate) data: Data<'a>,
    pub(crate) generics: &'a Generics,
    /// The fields with `#[event(tags(...))]`, in declaration order.
    pub(crate) tagged: Vec<TaggedField>,
}

/// A field with data-contract tags.
pub(crate) struct TaggedField {
    /// The Rust name of its variant (or of the struct): its Avro record's name.
    pub(crate) record: String,
    /// Its name in the payload (`#[serde(rename)]` or the Rust name).
    pub(crate) name: String,
    /// Its tags.
    pub(crate) tags: Vec<String>,
}

/// Enum, struct or union.
pub(crate) enum Data<'a> {
    Enum(Vec<Variant<'a>>),
    Struct(Shape, Span),
    Union(Span),
}

/// One enum variant.
pub(crate) struct Variant<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) attrs: VariantAttrs,
    pub(crate) shape: Shape,
    /// The fields' span (the parentheses or braces), for shape errors.
    pub(crate) fields_span: Span,
}

/// What a variant or struct holds.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Unit,
    Named,
    /// Unnamed fields, with their count.
    Tuple(usize),
}

impl Shape {
    fn of(fields: &Fields) -> Self {
        match fields {
            Fields::Unit => Shape::Unit,
            Fields::Named(_) => Shape::Named,
            Fields::Unnamed(unnamed) => Shape::Tuple(unnamed.unnamed.len()),
        }
    }
}

impl<'a> Container<'a> {
    /// Builds the model, recording attribute errors in `errors`.
    pub(crate) fn from_ast(errors: &mut Errors, input: &'a DeriveInput) -> Self {
        let attrs = attr::container(errors, &input.attrs);
        let mut tagged = Vec::new();
        let data = match &input.data {
            syn::Data::Enum(data) => Data::Enum(
                data.variants
                    .iter()
                    .map(|variant| {
                        for field in &variant.fields {
                            tag(errors, &mut tagged, &variant.ident, field);
                        }
                        Variant {
                            ident: &variant.ident,
                            attrs: attr::variant(errors, &variant.attrs),
                            shape: Shape::of(&variant.fields),
                            fields_span: variant.fields.span(),
                        }
                    })
                    .collect(),
            ),
            syn::Data::Struct(data) => {
                for field in &data.fields {
                    tag(errors, &mut tagged, &input.ident, field);
                }
                let span = match &data.fields {
                    Fields::Unit => data.semi_token.map_or(input.ident.span(), |s| s.span),
                    fields => fields.span(),
                };
                Data::Struct(Shape::of(&data.fields), span)
            }
            syn::Data::Union(data) => Data::Union(data.union_token.span),
        };
        Container {
            ident: &input.ident,
            attrs,
            data,
            generics: &input.generics,
            tagged,
        }
    }
}

/// Records `field`'s tags, if it has any; a field without a name cannot carry them.
fn tag(errors: &mut Errors, tagged: &mut Vec<TaggedField>, record: &Ident, field: &Field) {
    let attrs = attr::field(errors, &field.attrs);
    let Some(key) = attrs.key else {
        return;
    };
    let Some(ident) = &field.ident else {
        errors.spanned(
            &key,
            "`tags` goes on a named field: a tuple field has no name in the schema",
        );
        return;
    };
    if attrs.tags.is_empty() {
        return;
    }
    let rust_name = ident.to_string();
    let name = attrs.serde_rename.unwrap_or_else(|| {
        rust_name
            .strip_prefix("r#")
            .unwrap_or(&rust_name)
            .to_owned()
    });
    tagged.push(TaggedField {
        record: record.to_string(),
        name,
        tags: attrs.tags,
    });
}
