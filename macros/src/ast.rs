//! A small typed model of the derive input, with attributes already parsed.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{DeriveInput, Fields, Generics, Ident};

use crate::attr::{self, ContainerAttrs, VariantAttrs};
use crate::ctxt::Errors;

/// The annotated type.
pub(crate) struct Container<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) attrs: ContainerAttrs,
    pub(crate) data: Data<'a>,
    pub(crate) generics: &'a Generics,
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
        let data = match &input.data {
            syn::Data::Enum(data) => Data::Enum(
                data.variants
                    .iter()
                    .map(|variant| {
                        for field in &variant.fields {
                            attr::field(errors, &field.attrs);
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
                    attr::field(errors, &field.attrs);
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
        }
    }
}
