//! The Rust items a schema becomes, and their rendering as source text.

use std::fmt::Write;

/// What to generate besides the schema's own content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The event name of `#[event(name = ...)]`.
    pub event_name: String,
    /// The version of `#[event(version = ...)]`. Versions after 1 get an `upcast_json`
    /// function that refuses older payloads, since generated code knows no older version.
    pub event_version: u32,
    /// The root type's name; from the schema (record name, `title`) or the event name when
    /// `None`.
    pub root_name: Option<String>,
}

impl Options {
    /// Options for version `event_version` of event `event_name`.
    pub fn new(event_name: impl Into<String>, event_version: u32) -> Self {
        Options {
            event_name: event_name.into(),
            event_version,
            root_name: None,
        }
    }
}

/// A field's default when absent.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FieldDefault {
    /// Required.
    None,
    /// `Default::default()` of its type.
    Natural,
    /// A function returning this expression.
    Expr(String),
}

/// A struct field (or a struct variant's field).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Field {
    pub wire: String,
    pub rust: String,
    pub ty: String,
    pub doc: Option<String>,
    pub default: FieldDefault,
    /// Leave it out of the output when `None` (an optional JSON Schema property).
    pub skip_none: bool,
    /// The type whose schema the field exports instead of its own: the `T` of an optional,
    /// non-nullable property wrapped in `Option<T>`, so the exported schema does not accept
    /// `null` where the source did not.
    pub schema_with: Option<String>,
}

/// A unit variant or a struct variant.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Variant {
    pub wire: String,
    pub rust: String,
    pub doc: Option<String>,
    /// `None` for a unit variant.
    pub fields: Option<Vec<Field>>,
}

/// A branch of an Avro union: a newtype variant around the branch's type, or the unit
/// variant `Null`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Branch {
    pub rust: String,
    /// `None` for the `null` branch.
    pub ty: Option<String>,
    pub doc: String,
}

/// What an item is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    /// A tuple struct around one type (an Avro `fixed`).
    Newtype {
        ty: String,
        /// The `x-avro` keyword's value when the inner type's own is not the source's (a
        /// `decimal` on a `fixed`), as the JSON of `#[schemars(extend(...))]`.
        avro: Option<String>,
    },
    /// An untagged enum, one variant per branch of an Avro union in branch order: serde
    /// writes the branch's value alone, as apache-avro and Herald's JSON codec expect.
    Union { branches: Vec<Branch> },
    Struct {
        fields: Vec<Field>,
        deny_unknown: bool,
    },
    Enum {
        variants: Vec<Variant>,
        /// The internal tag property of a tagged union.
        tag: Option<String>,
    },
}

/// One generated type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Item {
    pub name: String,
    pub doc: Option<String>,
    pub kind: Kind,
}

/// Pushes an item whose contents are generated after it, so that the types they define are
/// named after it and references back to it find it; it is an empty struct until [`fill`]
/// gives it its contents. Returns its index.
pub(crate) fn open(items: &mut Vec<Item>, name: &str, doc: Option<String>) -> usize {
    items.push(Item {
        name: name.to_owned(),
        doc,
        kind: Kind::Struct {
            fields: Vec::new(),
            deny_unknown: false,
        },
    });
    items.len() - 1
}

/// Gives the item [`open`] pushed at `slot` its generated contents.
pub(crate) fn fill(items: &mut [Item], slot: usize, kind: Kind) {
    if let Some(item) = items.get_mut(slot) {
        item.kind = kind;
    }
}

fn doc_lines(out: &mut String, doc: Option<&str>) {
    if let Some(doc) = doc {
        for line in doc.lines() {
            let _ = writeln!(out, "#[doc = {:?}]", format!(" {line}"));
        }
    }
}

fn field(out: &mut String, owner: &str, f: &Field, public: bool, functions: &mut String) {
    doc_lines(out, f.doc.as_deref());
    let mut serde = Vec::new();
    if f.rust != f.wire {
        serde.push(format!("rename = {:?}", f.wire));
    }
    match &f.default {
        FieldDefault::None => {}
        FieldDefault::Natural => serde.push("default".to_owned()),
        FieldDefault::Expr(expr) => {
            let name = format!(
                "default_{}_{}",
                super::names::snake(owner),
                f.rust.trim_end_matches('_')
            );
            serde.push(format!("default = {name:?}"));
            let _ = writeln!(functions, "fn {name}() -> {} {{ {expr} }}", f.ty);
        }
    }
    if f.skip_none {
        serde.push("skip_serializing_if = \"::core::option::Option::is_none\"".to_owned());
    }
    if !serde.is_empty() {
        let _ = writeln!(out, "#[serde({})]", serde.join(", "));
    }
    if let Some(with) = &f.schema_with {
        let _ = writeln!(out, "#[schemars(with = {with:?})]");
    }
    let visibility = if public { "pub " } else { "" };
    let _ = writeln!(out, "{visibility}{}: {},", f.rust, f.ty);
}

/// Renders the items (the first is the root, which derives `Event`) as unformatted source.
pub(crate) fn render(items: &[Item], options: &Options) -> String {
    let mut out = String::new();
    out.push_str("//! Generated by `herald codegen`; do not edit.\n\n");
    let mut functions = String::new();
    for (index, item) in items.iter().enumerate() {
        doc_lines(&mut out, item.doc.as_deref());
        let root = index == 0;
        // An Avro name kept as written (it is part of the schema's identity).
        let container_rename =
            if item.name.contains('_') || item.name.starts_with(|c: char| c.is_ascii_lowercase()) {
                "#[allow(non_camel_case_types)]\n"
            } else {
                ""
            };
        let derives = if root {
            "Debug, Clone, PartialEq, ::serde::Serialize, ::serde::Deserialize, ::schemars::JsonSchema, ::herald::Event"
        } else {
            "Debug, Clone, PartialEq, ::serde::Serialize, ::serde::Deserialize, ::schemars::JsonSchema"
        };
        let _ = writeln!(out, "#[derive({derives})]");
        if root {
            let upcast = if options.event_version > 1 {
                ", upcast_json = refuse_older_versions"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "#[event(name = {:?}, version = {}{upcast})]",
                options.event_name, options.event_version
            );
        }
        match &item.kind {
            Kind::Newtype { ty, avro } => {
                out.push_str(container_rename);
                if let Some(avro) = avro {
                    let _ = writeln!(out, "#[schemars(extend(\"x-avro\" = {avro}))]");
                }
                let _ = writeln!(out, "pub struct {}(pub {ty});\n", item.name);
            }
            Kind::Union { branches } => {
                out.push_str(container_rename);
                out.push_str("#[serde(untagged)]\n");
                let _ = writeln!(out, "pub enum {} {{", item.name);
                for branch in branches {
                    doc_lines(&mut out, Some(&branch.doc));
                    match &branch.ty {
                        Some(ty) => {
                            let _ = writeln!(out, "{}({ty}),", branch.rust);
                        }
                        None => {
                            let _ = writeln!(out, "{},", branch.rust);
                        }
                    }
                }
                out.push_str("}\n\n");
            }
            Kind::Struct {
                fields,
                deny_unknown,
            } => {
                out.push_str(container_rename);
                if *deny_unknown {
                    out.push_str("#[serde(deny_unknown_fields)]\n");
                }
                let _ = writeln!(out, "pub struct {} {{", item.name);
                for f in fields {
                    field(&mut out, &item.name, f, true, &mut functions);
                }
                out.push_str("}\n\n");
            }
            Kind::Enum { variants, tag } => {
                out.push_str(container_rename);
                if let Some(tag) = tag {
                    let _ = writeln!(out, "#[serde(tag = {tag:?})]");
                }
                let _ = writeln!(out, "pub enum {} {{", item.name);
                // The root enum without a tag is Herald's event enum: its event types are
                // `<name>.<variant in snake_case>`, renamed with `#[event(rename)]`.
                let event_enum =
                    root && tag.is_none() && variants.iter().all(|v| v.fields.is_some());
                for v in variants {
                    doc_lines(&mut out, v.doc.as_deref());
                    if event_enum {
                        if super::names::snake(&v.rust) != v.wire {
                            let _ = writeln!(out, "#[event(rename = {:?})]", v.wire);
                        }
                    } else if v.rust != v.wire {
                        let _ = writeln!(out, "#[serde(rename = {:?})]", v.wire);
                    }
                    match &v.fields {
                        None => {
                            let _ = writeln!(out, "{},", v.rust);
                        }
                        Some(fields) => {
                            let _ = writeln!(out, "{} {{", v.rust);
                            let owner = format!("{}{}", item.name, v.rust);
                            for f in fields {
                                field(&mut out, &owner, f, false, &mut functions);
                            }
                            out.push_str("},\n");
                        }
                    }
                }
                out.push_str("}\n\n");
            }
        }
    }
    if options.event_version > 1 {
        let _ = writeln!(
            out,
            "/// Generated code knows only version {v}: older payloads are refused.\n\
             fn refuse_older_versions(event: ::herald::JsonEvent) -> ::core::result::Result<::herald::JsonEvent, ::herald::UpcastError> {{\n\
             let _ = event;\n\
             ::core::result::Result::Err(\"generated code reads version {v} only\".into())\n}}\n",
            v = options.event_version
        );
    }
    out.push_str(&functions);
    out
}
