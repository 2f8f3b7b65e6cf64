//! Avro schemas: parsing, validation and the canonical form.
//!
//! A schema is lowered once, at parse time, into an arena of [`Node`]s in which every
//! reference to a named type is already resolved to the node that defines it. A recursive
//! record is simply a node that (indirectly) points back at itself, so the compatibility
//! checker never looks a name up and never clones a schema.
//!
//! Parsing runs two validators: Herald's own walk over the JSON, which knows where it is and
//! reports errors with an Avro path (`/fields/2/type`), and then the `apache-avro` crate's
//! parser as a backstop for anything the walk does not check itself.
//!
//! # Canonical form
//!
//! The canonical form is Avro's Parsing Canonical Form (rules PRIMITIVES, FULLNAMES, STRIP,
//! ORDER, STRINGS, INTEGERS, WHITESPACE) extended with the attributes that change how data is
//! resolved or interpreted, so that two schemas with the same canonical form behave the same:
//!
//! - field `default`, normalized by the field's type (`0` and `0.0` for a `double` are the
//!   same default; object keys are sorted; unknown record keys are dropped);
//! - `aliases` of named types (as full names) and of fields, sorted and deduplicated;
//! - `logicalType`, with `precision` and `scale` for `decimal` (`scale` written even when it
//!   is the implicit `0`);
//! - the enum `default`;
//! - field `order`, when it is not the implicit `ascending`: it does not affect resolution but
//!   it changes how data sorts, so schemas that differ in it are different schemas.
//!
//! `doc`, `namespace` (folded into full names) and custom attributes are dropped. Extended
//! attributes follow the standard ones: `name`, `type`, `fields`, `symbols`, `items`,
//! `values`, `size`, then `logicalType`, `precision`, `scale`, `default`, `aliases`, `order`.

mod attributes;
mod canonical;
mod defaults;
mod names;
mod parser;
mod path;

use serde_json::Value;

use super::SchemaError;

pub(crate) use path::Path;

/// Index of a node in [`AvroSchema::nodes`].
pub(crate) type NodeId = u32;

/// A parsed Avro schema: an arena of nodes with references resolved.
#[derive(Debug, Clone)]
pub(crate) struct AvroSchema {
    nodes: Vec<Node>,
    root: NodeId,
}

impl AvroSchema {
    /// The node the schema starts at.
    pub(crate) fn root(&self) -> NodeId {
        self.root
    }

    /// The node with the given id. Ids come from this schema, so the index is in bounds.
    pub(crate) fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }
}

/// The eight primitive types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Primitive {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
}

impl Primitive {
    /// All primitives, in the order their interned nodes occupy at the start of every arena.
    pub(crate) const ALL: [Primitive; 8] = [
        Primitive::Null,
        Primitive::Boolean,
        Primitive::Int,
        Primitive::Long,
        Primitive::Float,
        Primitive::Double,
        Primitive::Bytes,
        Primitive::String,
    ];

    /// The Avro type name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Primitive::Null => "null",
            Primitive::Boolean => "boolean",
            Primitive::Int => "int",
            Primitive::Long => "long",
            Primitive::Float => "float",
            Primitive::Double => "double",
            Primitive::Bytes => "bytes",
            Primitive::String => "string",
        }
    }

    /// The primitive with this type name.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The id of the interned, unannotated node for this primitive.
    pub(crate) fn interned(self) -> NodeId {
        self as NodeId
    }
}

/// A logical type annotation. It is kept for the canonical form only: like Java's
/// `SchemaCompatibility`, resolution looks at the underlying type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Logical {
    pub(crate) name: String,
    pub(crate) precision: Option<u64>,
    pub(crate) scale: Option<u64>,
}

/// One type in the arena.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Primitive {
        kind: Primitive,
        logical: Option<Box<Logical>>,
    },
    Array(NodeId),
    Map(NodeId),
    Union(Box<[NodeId]>),
    Record(Box<Record>),
    Enum(Box<Enum>),
    Fixed(Box<Fixed>),
}

/// The name of a named type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Name {
    full: String,
    simple_start: usize,
}

impl Name {
    /// A name from its full (dotted) form.
    pub(crate) fn from_full(full: String) -> Self {
        let simple_start = full.rfind('.').map_or(0, |dot| dot + 1);
        Name { full, simple_start }
    }

    /// `com.example.Order`.
    pub(crate) fn full(&self) -> &str {
        &self.full
    }

    /// `Order`.
    pub(crate) fn simple(&self) -> &str {
        &self.full[self.simple_start..]
    }

    /// `com.example`, or `""` for the null namespace.
    pub(crate) fn namespace(&self) -> &str {
        self.full[..self.simple_start].trim_end_matches('.')
    }
}

/// What records, enums and fixed types share.
#[derive(Debug, Clone)]
pub(crate) struct Named {
    pub(crate) name: Name,
    /// Full names, sorted and deduplicated.
    pub(crate) aliases: Vec<String>,
}

impl Named {
    /// Whether a reader type with this name reads a writer type named `writer`: the
    /// unqualified names are equal, or one of the reader's aliases is the writer's full name
    /// (Java's `SchemaCompatibility.schemaNameEquals`).
    pub(crate) fn reads_name(&self, writer: &Name) -> bool {
        self.name.simple() == writer.simple()
            || self
                .aliases
                .binary_search_by(|alias| alias.as_str().cmp(writer.full()))
                .is_ok()
    }
}

/// A record type.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub(crate) named: Named,
    /// The Herald event type the record stands for (its `herald.event_type` attribute).
    pub(crate) event_type: Option<String>,
    pub(crate) fields: Vec<Field>,
    /// Field positions sorted by field name, for lookup by name.
    pub(crate) by_name: Box<[u32]>,
}

impl Record {
    /// The field called `name`.
    pub(crate) fn field(&self, name: &str) -> Option<&Field> {
        self.by_name
            .binary_search_by(|&i| self.fields[i as usize].name.as_str().cmp(name))
            .ok()
            .map(|found| &self.fields[self.by_name[found] as usize])
    }
}

/// The sort order of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    Ascending,
    Descending,
    Ignore,
}

/// A record field.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub(crate) name: String,
    pub(crate) ty: NodeId,
    /// The default, normalized by the field's type.
    pub(crate) default: Option<Value>,
    /// As written, in order (lookup tries them in this order).
    pub(crate) aliases: Vec<String>,
    pub(crate) order: Order,
}

/// An enum type.
#[derive(Debug, Clone)]
pub(crate) struct Enum {
    pub(crate) named: Named,
    pub(crate) symbols: Vec<String>,
    /// Symbol positions sorted by symbol, for lookup.
    pub(crate) sorted: Box<[u32]>,
    pub(crate) default: Option<String>,
}

impl Enum {
    /// Whether `symbol` is one of this enum's symbols.
    pub(crate) fn has_symbol(&self, symbol: &str) -> bool {
        self.sorted
            .binary_search_by(|&i| self.symbols[i as usize].as_str().cmp(symbol))
            .is_ok()
    }
}

/// A fixed type.
#[derive(Debug, Clone)]
pub(crate) struct Fixed {
    pub(crate) named: Named,
    pub(crate) size: u64,
    pub(crate) logical: Option<Logical>,
}

/// Parses an Avro schema and returns it with its canonical form.
pub(crate) fn parse(value: &Value) -> Result<(AvroSchema, String), SchemaError> {
    let schema = parser::parse(value)?;
    apache_avro::Schema::parse(value).map_err(|err| SchemaError::Avro {
        path: "/".to_owned(),
        message: err.to_string(),
    })?;
    let canonical = canonical::write(&schema);
    Ok((schema, canonical))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<(AvroSchema, String), SchemaError> {
        let value: Value = serde_json::from_str(text).unwrap();
        parse(&value)
    }

    fn error_at(text: &str) -> (String, String) {
        match parse_str(text) {
            Err(SchemaError::Avro { path, message }) => (path, message),
            other => panic!("expected an Avro error, got {other:?}"),
        }
    }

    #[test]
    fn names_split_into_namespace_and_simple_name() {
        let name = Name::from_full("com.example.Order".to_owned());
        assert_eq!(name.simple(), "Order");
        assert_eq!(name.namespace(), "com.example");
        let bare = Name::from_full("Order".to_owned());
        assert_eq!(bare.simple(), "Order");
        assert_eq!(bare.namespace(), "");
    }

    #[test]
    fn nested_union_is_an_error_at_its_path() {
        let (path, message) = error_at(
            r#"{"type":"record","name":"R","fields":[
                {"name":"a","type":"int"},
                {"name":"b","type":["null",["int","string"]]}]}"#,
        );
        assert_eq!(path, "/fields/1/type/1");
        assert!(message.contains("union"), "{message}");
    }

    #[test]
    fn unknown_type_reference_names_the_type() {
        let (path, message) = error_at(
            r#"{"type":"record","name":"R","fields":[
                {"name":"a","type":{"type":"array","items":"Missing"}}]}"#,
        );
        assert_eq!(path, "/fields/0/type/items");
        assert!(message.contains("Missing"), "{message}");
    }

    #[test]
    fn recursive_record_parses() {
        let (schema, canonical) = parse_str(
            r#"{"type":"record","name":"Node","namespace":"t","fields":[
                {"name":"value","type":"int"},
                {"name":"next","type":["null","Node"],"default":null}]}"#,
        )
        .unwrap();
        let Node::Record(record) = schema.node(schema.root()) else {
            panic!("root is not a record")
        };
        let Node::Union(branches) = schema.node(record.fields[1].ty) else {
            panic!("next is not a union")
        };
        assert_eq!(branches[1], schema.root());
        assert_eq!(
            canonical,
            r#"{"name":"t.Node","type":"record","fields":[{"name":"value","type":"int"},{"name":"next","type":["null","t.Node"],"default":null}]}"#
        );
    }

    #[test]
    fn backstop_parser_still_runs() {
        // A fixed size that does not fit the decimal precision is accepted by the walk (the
        // spec says to ignore invalid logical types) and then judged by apache-avro; either
        // way parsing must not panic.
        let _ = parse_str(
            r#"{"type":"fixed","name":"F","size":1,"logicalType":"decimal","precision":40}"#,
        );
    }
}
