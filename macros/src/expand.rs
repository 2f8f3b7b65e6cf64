//! Code generation for a validated event. Everything is named by absolute path; checks that
//! may fail to compile are spanned on the attribute value that asked for them, so rustc's
//! errors point there.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::attr::Upcast;
use crate::check::{Event, Kind};

pub(crate) fn expand(event: &Event<'_>) -> TokenStream {
    let ident = event.ident;
    let name = &event.name;
    let version = event.version;

    let (event_types, records, is_enum, event_type_body) = match &event.kind {
        Kind::Enum(types) => {
            let event_types: Vec<&String> = types.iter().map(|t| &t.event_type).collect();
            let records: Vec<String> = types.iter().map(|t| t.ident.to_string()).collect();
            let arms = types.iter().map(|t| {
                let variant = t.ident;
                let event_type = &t.event_type;
                quote!(Self::#variant { .. } => #event_type,)
            });
            (
                quote!(&[#(#event_types),*]),
                quote!(&[#(#records),*]),
                true,
                quote!(match self { #(#arms)* }),
            )
        }
        Kind::Struct => {
            let record = ident.to_string();
            (quote!(&[#name]), quote!(&[#record]), false, quote!(#name))
        }
    };

    let Chain {
        upcast_body,
        history_body,
        chain_check,
        major,
    } = chain(event);
    let breaking = match &event.breaking {
        Some(reason) => quote!(::core::option::Option::Some(#reason)),
        None => quote!(::core::option::Option::None),
    };

    let tagged = event.tagged.iter().map(|field| {
        let (record, name, tags) = (&field.record, &field.name, &field.tags);
        quote!(::herald::FieldTags { record: #record, field: #name, tags: &[#(#tags),*] })
    });

    quote! {
        #[automatically_derived]
        impl ::herald::Event for #ident {
            const NAME: &'static str = #name;
            const VERSION: u32 = #version;
            const MAJOR: u32 = #major;
            const BREAKING: ::core::option::Option<&'static str> = #breaking;
            const EVENT_TYPES: &'static [&'static str] = #event_types;
            #[doc(hidden)]
            const __RECORDS: &'static [&'static str] = #records;
            #[doc(hidden)]
            const __IS_ENUM: bool = #is_enum;
            const FIELD_TAGS: &'static [::herald::FieldTags] = &[#(#tagged),*];

            fn event_type(&self) -> &'static str {
                #event_type_body
            }

            fn history() -> ::std::vec::Vec<::herald::EventVersion> {
                #history_body
            }

            #[doc(hidden)]
            fn __upcast<C: ::herald::Codec>(
                event_type: &str,
                version: u32,
                payload: &[u8],
            ) -> ::core::result::Result<Self, ::herald::DecodeError> {
                #upcast_body
            }

            #[doc(hidden)]
            fn __avro_schemas() -> ::core::result::Result<
                &'static ::herald::__private::AvroSchemas,
                ::herald::SchemaError,
            > {
                static CACHE: ::herald::__private::OnceLock<
                    ::core::result::Result<::herald::__private::AvroSchemas, ::herald::SchemaError>,
                > = ::herald::__private::OnceLock::new();
                ::herald::__private::avro_schemas::<Self>(&CACHE)
            }
        }

        #chain_check
    }
}

/// What the version's place in the chain generates.
struct Chain {
    /// The body of `__upcast`.
    upcast_body: TokenStream,
    /// The body of `history`.
    history_body: TokenStream,
    /// The compile-time chain checks.
    chain_check: TokenStream,
    /// The value of `MAJOR`.
    major: TokenStream,
}

fn chain(event: &Event<'_>) -> Chain {
    let name = &event.name;
    let version = event.version;
    // Set by `check` for version 1 and `upcast_json`, where the chain cannot compute it.
    let declared_major = event.major.unwrap_or(1);
    match event.upcast {
        None => Chain {
            upcast_body: quote! {
                let _ = (event_type, payload);
                ::core::result::Result::Err(::herald::__private::no_older_version::<Self>(version))
            },
            history_body: quote!(::std::vec![::herald::EventVersion::of::<Self>(
                ::herald::Upcast::None
            )]),
            chain_check: TokenStream::new(),
            major: quote!(#declared_major),
        },
        Some(Upcast::Json { function, .. }) => {
            let span = function.span();
            let upcaster = quote_spanned!(span=> let upcaster: ::herald::JsonUpcaster = #function;);
            Chain {
                upcast_body: quote! {
                    #upcaster
                    ::herald::__private::upcast_json::<Self, C>(upcaster, event_type, version, payload)
                },
                history_body: quote!(::std::vec![::herald::EventVersion::of::<Self>(
                    ::herald::Upcast::Json
                )]),
                chain_check: TokenStream::new(),
                major: quote!(#declared_major),
            }
        }
        Some(Upcast::From { previous, .. } | Upcast::TryFrom { previous, .. }) => {
            let span = previous.span();
            let fallible = matches!(event.upcast, Some(Upcast::TryFrom { .. }));
            let previous_name = previous.to_token_stream().to_string().replace(' ', "");
            let step = if fallible {
                quote_spanned! {span=>
                    ::herald::__private::try_upcast::<#previous, Self, _>(
                        event_type,
                        <Self as ::core::convert::TryFrom<#previous>>::try_from(previous),
                    )
                }
            } else {
                quote_spanned! {span=>
                    ::core::result::Result::Ok(<Self as ::core::convert::From<#previous>>::from(previous))
                }
            };
            let kind = if fallible {
                quote!(::herald::Upcast::TryFrom)
            } else {
                quote!(::herald::Upcast::From)
            };
            let previous_version = version - 1;
            let gap = format!(
                "`{previous_name}` is not version {previous_version} of `{name}`: `upcast_from` must name the version right before this one (version {version}), since upcasts go one version at a time"
            );
            let other_name = format!(
                "`{previous_name}` is a version of another event: `upcast_from` must name a version of `{name}` (its `#[event(name = ...)]` must be `name = \"{name}\"`)"
            );
            let chain_check = quote_spanned! {span=>
                const _: () = {
                    ::core::assert!(
                        <#previous as ::herald::Event>::VERSION == #previous_version,
                        #gap
                    );
                    ::core::assert!(
                        ::herald::__private::str_eq(<#previous as ::herald::Event>::NAME, #name),
                        #other_name
                    );
                };
            };
            let opens = u32::from(event.breaking.is_some());
            Chain {
                upcast_body: quote! {
                    let previous =
                        <#previous as ::herald::Event>::decode_with::<C>(event_type, version, payload)?;
                    #step
                },
                history_body: quote! {
                    let mut history = <#previous as ::herald::Event>::history();
                    history.push(::herald::EventVersion::of::<Self>(#kind));
                    history
                },
                chain_check,
                major: quote_spanned!(span=> <#previous as ::herald::Event>::MAJOR + #opens),
            }
        }
    }
}
