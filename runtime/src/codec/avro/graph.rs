//! An Avro schema compiled into a flat graph: logical types reduced to their encoding, names
//! resolved to node indexes, each union's branch per kind of serde value and each field's
//! default (as datum bytes) computed once.

use std::collections::HashMap;

use apache_avro::Schema;
use apache_avro::schema::{InnerDecimalSchema, Name, RecordSchema, UnionSchema, UuidSchema};
use apache_avro::writer::datum::GenericDatumWriter;

use super::error::AvroError;

/// The index of a node in its [`Graph`].
pub(crate) type NodeId = usize;

/// One schema node, as the binary encoding sees it.
#[derive(Debug)]
pub(crate) enum Node {
    Null,
    Boolean,
    /// `int` and the logical types on it (`date`, `time-millis`).
    Int,
    /// `long` and the logical types on it (timestamps, `time-micros`).
    Long,
    Float,
    Double,
    /// `bytes` and the logical types on it (`decimal`, `big-decimal`, `uuid` as bytes).
    Bytes,
    /// `string` (and `uuid` on a string).
    String,
    /// `fixed` of a size (and `duration`, `uuid` on a fixed); a decimal on a fixed is
    /// sign-extended to the size when written shorter.
    Fixed {
        size: usize,
        decimal: bool,
    },
    Enum(EnumNode),
    Array(NodeId),
    Map(NodeId),
    Union(UnionNode),
    Record(RecordNode),
}

impl Node {
    /// The Avro type's name, for errors.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Boolean => "boolean",
            Node::Int => "int",
            Node::Long => "long",
            Node::Float => "float",
            Node::Double => "double",
            Node::Bytes => "bytes",
            Node::String => "string",
            Node::Fixed { .. } => "fixed",
            Node::Enum(_) => "enum",
            Node::Array(_) => "array",
            Node::Map(_) => "map",
            Node::Union(_) => "union",
            Node::Record(_) => "record",
        }
    }
}

/// An enum's symbols and default.
#[derive(Debug)]
pub(crate) struct EnumNode {
    pub(crate) symbols: Vec<String>,
    /// The position of the default symbol (used when a writer's symbol is unknown).
    pub(crate) default: Option<usize>,
}

/// The kinds of value a serde serializer hands over, as far as choosing a union branch goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Null = 0,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
    Seq,
    Map,
    Record,
}

const KINDS: usize = Kind::Record as usize + 1;

impl Kind {
    const ALL: [Kind; KINDS] = [
        Kind::Null,
        Kind::Boolean,
        Kind::Int,
        Kind::Long,
        Kind::Float,
        Kind::Double,
        Kind::Bytes,
        Kind::String,
        Kind::Seq,
        Kind::Map,
        Kind::Record,
    ];
}

/// How well a union branch takes a value of `kind`: 0 is the kind itself, higher ranks the
/// conversions apache-avro's resolution makes, `None` not at all. A value goes to the first
/// branch of the lowest rank.
fn rank(kind: Kind, node: &Node) -> Option<u8> {
    Some(match (kind, node) {
        (Kind::Null, Node::Null)
        | (Kind::Boolean, Node::Boolean)
        | (Kind::Int, Node::Int)
        | (Kind::Long, Node::Long)
        | (Kind::Float, Node::Float)
        | (Kind::Double, Node::Double)
        | (Kind::Bytes, Node::Bytes)
        | (Kind::String, Node::String)
        | (Kind::Seq, Node::Array(_))
        | (Kind::Map, Node::Map(_))
        | (Kind::Record, Node::Record(_)) => 0,
        (Kind::Int, Node::Long)
        | (Kind::Long, Node::Int)
        | (Kind::Float, Node::Double)
        | (Kind::Double, Node::Float)
        | (Kind::Bytes, Node::Fixed { .. })
        | (Kind::String, Node::Enum(_))
        | (Kind::Map, Node::Record(_))
        | (Kind::Record, Node::Map(_)) => 1,
        (Kind::Int | Kind::Long, Node::Float)
        | (Kind::Bytes, Node::String)
        | (Kind::String, Node::Bytes) => 2,
        (Kind::Int | Kind::Long, Node::Double) => 3,
        _ => return None,
    })
}

/// A union's branches and, per [`Kind`], the branch a serialized value of that kind goes to.
#[derive(Debug)]
pub(crate) struct UnionNode {
    pub(crate) branches: Vec<NodeId>,
    pub(crate) by_kind: [Option<usize>; KINDS],
    /// Record branches by record name (unqualified), for structs.
    pub(crate) records: Vec<(String, usize)>,
}

/// A record's fields in schema order.
#[derive(Debug)]
pub(crate) struct RecordNode {
    pub(crate) name: String,
    pub(crate) fields: Vec<FieldNode>,
}

/// One record field.
#[derive(Debug)]
pub(crate) struct FieldNode {
    pub(crate) name: String,
    pub(crate) aliases: Vec<String>,
    pub(crate) node: NodeId,
    /// The field's default written as a datum of its type (what apache-avro writes for it).
    pub(crate) default: Option<Vec<u8>>,
}

/// A compiled schema: its nodes and the root.
#[derive(Debug)]
pub(crate) struct Graph {
    pub(crate) nodes: Vec<Node>,
    pub(crate) root: NodeId,
    /// A `string` node, which map keys are written as.
    pub(crate) string: NodeId,
}

impl Graph {
    /// Compiles `schema` (a self-contained schema: every name it references is defined in it).
    pub(crate) fn compile(schema: &Schema) -> Result<Self, AvroError> {
        let mut compiler = Compiler {
            top: schema,
            nodes: Vec::new(),
            names: HashMap::new(),
        };
        let root = compiler.node(schema, None)?;
        let string = compiler.push(Node::String);
        Ok(Graph {
            nodes: compiler.nodes,
            root,
            string,
        })
    }

    #[inline]
    pub(crate) fn node(&self, id: NodeId) -> &Node {
        // Ids come from the compiler, which only hands out ids of pushed nodes.
        &self.nodes[id]
    }
}

struct Compiler<'s> {
    top: &'s Schema,
    nodes: Vec<Node>,
    names: HashMap<String, NodeId>,
}

impl<'s> Compiler<'s> {
    fn push(&mut self, node: Node) -> NodeId {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    /// Registers a named type; `placeholder` stands for it until it is filled (a record's
    /// fields can refer to the record itself).
    fn define(&mut self, name: &Name, namespace: Option<&str>, placeholder: Node) -> NodeId {
        let id = self.push(placeholder);
        self.names.insert(name.fullname(namespace), id);
        id
    }

    fn node(&mut self, schema: &'s Schema, namespace: Option<&str>) -> Result<NodeId, AvroError> {
        let node = match schema {
            Schema::Null => Node::Null,
            Schema::Boolean => Node::Boolean,
            Schema::Int | Schema::Date | Schema::TimeMillis => Node::Int,
            Schema::Long
            | Schema::TimeMicros
            | Schema::TimestampMillis
            | Schema::TimestampMicros
            | Schema::TimestampNanos
            | Schema::LocalTimestampMillis
            | Schema::LocalTimestampMicros
            | Schema::LocalTimestampNanos => Node::Long,
            Schema::Float => Node::Float,
            Schema::Double => Node::Double,
            Schema::Bytes | Schema::BigDecimal | Schema::Uuid(UuidSchema::Bytes) => Node::Bytes,
            Schema::String | Schema::Uuid(UuidSchema::String) => Node::String,
            Schema::Decimal(decimal) => match &decimal.inner {
                InnerDecimalSchema::Bytes => Node::Bytes,
                InnerDecimalSchema::Fixed(fixed) => {
                    let node = Node::Fixed {
                        size: fixed.size,
                        decimal: true,
                    };
                    return Ok(self.define(&fixed.name, namespace, node));
                }
            },
            Schema::Fixed(fixed)
            | Schema::Uuid(UuidSchema::Fixed(fixed))
            | Schema::Duration(fixed) => {
                let node = Node::Fixed {
                    size: fixed.size,
                    decimal: false,
                };
                return Ok(self.define(&fixed.name, namespace, node));
            }
            Schema::Enum(schema) => {
                let default = match &schema.default {
                    Some(symbol) => schema.symbols.iter().position(|s| s == symbol),
                    None => None,
                };
                let node = Node::Enum(EnumNode {
                    symbols: schema.symbols.clone(),
                    default,
                });
                return Ok(self.define(&schema.name, namespace, node));
            }
            Schema::Array(array) => {
                let items = self.node(&array.items, namespace)?;
                Node::Array(items)
            }
            Schema::Map(map) => {
                let values = self.node(&map.types, namespace)?;
                Node::Map(values)
            }
            Schema::Union(union) => self.union(union, namespace)?,
            Schema::Record(record) => return self.record(record, namespace),
            Schema::Ref { name } => {
                let fullname = name.fullname(namespace);
                return self
                    .names
                    .get(&fullname)
                    .copied()
                    .ok_or(AvroError::UnknownName(fullname));
            }
        };
        Ok(self.push(node))
    }

    fn union(
        &mut self,
        union: &'s UnionSchema,
        namespace: Option<&str>,
    ) -> Result<Node, AvroError> {
        let mut branches = Vec::with_capacity(union.variants().len());
        for branch in union.variants() {
            branches.push(self.node(branch, namespace)?);
        }
        let mut by_kind = [None; KINDS];
        for kind in Kind::ALL {
            by_kind[kind as usize] = branches
                .iter()
                .enumerate()
                .filter_map(|(index, &id)| Some((rank(kind, self.nodes.get(id)?)?, index)))
                .min()
                .map(|(_, index)| index);
        }
        let mut records = Vec::new();
        for (index, branch) in union.variants().iter().enumerate() {
            let name = match branch {
                Schema::Record(record) => Some(record.name.name().to_owned()),
                Schema::Ref { name } => Some(name.name().to_owned()),
                _ => None,
            };
            if let Some(name) = name {
                records.push((name, index));
            }
        }
        Ok(Node::Union(UnionNode {
            branches,
            by_kind,
            records,
        }))
    }

    fn record(
        &mut self,
        record: &'s RecordSchema,
        namespace: Option<&str>,
    ) -> Result<NodeId, AvroError> {
        let placeholder = Node::Record(RecordNode {
            name: record.name.name().to_owned(),
            fields: Vec::new(),
        });
        let id = self.define(&record.name, namespace, placeholder);
        let inner = record.name.namespace().or(namespace);
        let mut fields = Vec::with_capacity(record.fields.len());
        for field in &record.fields {
            let node = self.node(&field.schema, inner)?;
            // A default apache-avro cannot write either counts as none: the field is then
            // required, as it is for apache-avro's writer.
            let default = field
                .default
                .as_ref()
                .and_then(|json| self.default_bytes(&field.schema, json).ok());
            fields.push(FieldNode {
                name: field.name.clone(),
                aliases: field.aliases.clone(),
                node,
                default,
            });
        }
        self.nodes[id] = Node::Record(RecordNode {
            name: record.name.name().to_owned(),
            fields,
        });
        Ok(id)
    }

    /// A field's default as apache-avro writes it: the JSON value resolved against the field's
    /// schema (a union's default is of its first branch), then encoded.
    fn default_bytes(
        &self,
        schema: &Schema,
        json: &serde_json::Value,
    ) -> Result<Vec<u8>, apache_avro::Error> {
        let value = apache_avro::types::Value::try_from(json.clone())?
            .resolve_schemata(schema, vec![self.top])?;
        GenericDatumWriter::builder(schema)
            .schemata(vec![self.top])?
            .build()?
            .write_value_to_vec(value)
    }
}
