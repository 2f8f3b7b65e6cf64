//! The walk that validates an Avro schema's JSON and lowers it into the node arena.
//!
//! Names are resolved as the specification says: a dotted name is a full name, any other name
//! takes the namespace of the enclosing named type (or its own `namespace` attribute), and a
//! named type must be defined before it is referenced (or be an enclosing record, which is how
//! recursion is written). Defaults are validated once the whole arena exists, so that a
//! default may mention a type defined later in the document or the record being defined.

use std::collections::HashMap;

use herald_protocol::annotations::EVENT_TYPE_ATTRIBUTE;
use serde_json::{Map, Value};

use super::attributes::{self, error, kind_of, logical};
use super::defaults;
use super::names::{self, is_simple_name, qualify};
use super::{AvroSchema, Enum, Field, Fixed, Named, Node, NodeId, Order, Path, Primitive, Record};
use crate::schema::SchemaError;

/// Validates `value` and lowers it into an [`AvroSchema`].
pub(super) fn parse(value: &Value) -> Result<AvroSchema, SchemaError> {
    let mut parser = Parser {
        nodes: Primitive::ALL
            .into_iter()
            .map(|kind| Node::Primitive {
                kind,
                logical: None,
            })
            .collect(),
        names: HashMap::new(),
        pending: Vec::new(),
    };
    let root = parser.schema(value, "", &Path::ROOT)?;
    parser.normalize_defaults()?;
    Ok(AvroSchema {
        nodes: parser.nodes,
        root,
    })
}

/// A field default waiting for the arena to be complete.
struct PendingDefault {
    record: NodeId,
    field: usize,
    path: String,
}

struct Parser {
    nodes: Vec<Node>,
    names: HashMap<String, NodeId>,
    pending: Vec<PendingDefault>,
}

/// What makes two union branches clash.
#[derive(PartialEq, Eq)]
enum BranchKey<'a> {
    Primitive(Primitive),
    Array,
    Map,
    Union,
    Named(&'a str),
}

impl Parser {
    fn push(&mut self, node: Node) -> NodeId {
        let id = self.nodes.len() as NodeId;
        self.nodes.push(node);
        id
    }

    /// Any schema: a type name, a schema object or a union.
    fn schema(&mut self, value: &Value, ns: &str, path: &Path<'_>) -> Result<NodeId, SchemaError> {
        match value {
            Value::String(name) => self.reference(name, ns, path),
            Value::Array(branches) => self.union(branches, ns, path),
            Value::Object(object) => self.object(object, ns, path),
            other => Err(error(
                path,
                format!(
                    "expected a type name, a schema object or a union array, found {}",
                    kind_of(other)
                ),
            )),
        }
    }

    /// A type name: a primitive or a named type defined earlier.
    fn reference(&mut self, name: &str, ns: &str, path: &Path<'_>) -> Result<NodeId, SchemaError> {
        if let Some(primitive) = Primitive::from_name(name) {
            return Ok(primitive.interned());
        }
        if matches!(name, "record" | "enum" | "array" | "map" | "fixed") {
            return Err(error(
                path,
                format!(
                    "`{name}` must be written as an object with its attributes, e.g. {{\"type\": \"{name}\", ...}}"
                ),
            ));
        }
        let full = qualify(name, ns);
        self.names.get(&full).copied().ok_or_else(|| {
            error(
                path,
                format!("unknown type `{full}` (a named type must be defined before it is used)"),
            )
        })
    }

    fn union(
        &mut self,
        branches: &[Value],
        ns: &str,
        path: &Path<'_>,
    ) -> Result<NodeId, SchemaError> {
        let mut ids: Vec<NodeId> = Vec::with_capacity(branches.len());
        for (index, branch) in branches.iter().enumerate() {
            let at = path.index(index);
            let id = self.schema(branch, ns, &at)?;
            let key = self.branch_key(id);
            if key == BranchKey::Union {
                return Err(error(
                    &at,
                    "a union cannot directly contain another union; list its branches in the outer union",
                ));
            }
            if let Some(earlier) = ids.iter().position(|&other| self.branch_key(other) == key) {
                return Err(error(
                    &at,
                    format!(
                        "union branch {index} has the same type as branch {earlier}; a union may hold each unnamed type and each name only once"
                    ),
                ));
            }
            ids.push(id);
        }
        Ok(self.push(Node::Union(ids.into_boxed_slice())))
    }

    fn branch_key(&self, id: NodeId) -> BranchKey<'_> {
        match &self.nodes[id as usize] {
            Node::Primitive { kind, .. } => BranchKey::Primitive(*kind),
            Node::Array(_) => BranchKey::Array,
            Node::Map(_) => BranchKey::Map,
            Node::Union(_) => BranchKey::Union,
            Node::Record(record) => BranchKey::Named(record.named.name.full()),
            Node::Enum(enumeration) => BranchKey::Named(enumeration.named.name.full()),
            Node::Fixed(fixed) => BranchKey::Named(fixed.named.name.full()),
        }
    }

    fn object(
        &mut self,
        object: &Map<String, Value>,
        ns: &str,
        path: &Path<'_>,
    ) -> Result<NodeId, SchemaError> {
        let ty = match object.get("type") {
            Some(Value::String(ty)) => ty.as_str(),
            Some(inner @ (Value::Object(_) | Value::Array(_))) => {
                return self.schema(inner, ns, &path.key("type"));
            }
            Some(other) => {
                return Err(error(
                    &path.key("type"),
                    format!("`type` must be a type name, found {}", kind_of(other)),
                ));
            }
            None => return Err(error(path, "a schema object needs a `type` attribute")),
        };
        match ty {
            "record" => self.record(object, ns, path),
            "enum" => self.enumeration(object, ns, path),
            "fixed" => self.fixed(object, ns, path),
            "array" => {
                let items = object
                    .get("items")
                    .ok_or_else(|| error(path, "an array needs an `items` attribute"))?;
                let items = self.schema(items, ns, &path.key("items"))?;
                Ok(self.push(Node::Array(items)))
            }
            "map" => {
                let values = object
                    .get("values")
                    .ok_or_else(|| error(path, "a map needs a `values` attribute"))?;
                let values = self.schema(values, ns, &path.key("values"))?;
                Ok(self.push(Node::Map(values)))
            }
            other => match Primitive::from_name(other) {
                Some(kind) => match logical(object, path)? {
                    Some(logical) => Ok(self.push(Node::Primitive {
                        kind,
                        logical: Some(Box::new(logical)),
                    })),
                    None => Ok(kind.interned()),
                },
                None => self.reference(other, ns, &path.key("type")),
            },
        }
    }

    /// Reads and checks the name, namespace and aliases of a new named type.
    fn define(
        &self,
        object: &Map<String, Value>,
        ns: &str,
        path: &Path<'_>,
    ) -> Result<Named, SchemaError> {
        names::define(object, ns, path, |full| self.names.contains_key(full))
    }

    /// Adds a named type's node and makes its name refer to it.
    fn register(&mut self, node: Node) -> NodeId {
        let full = match &node {
            Node::Record(record) => record.named.name.full().to_owned(),
            Node::Enum(enumeration) => enumeration.named.name.full().to_owned(),
            Node::Fixed(fixed) => fixed.named.name.full().to_owned(),
            _ => String::new(),
        };
        let id = self.push(node);
        self.names.insert(full, id);
        id
    }

    fn record(
        &mut self,
        object: &Map<String, Value>,
        ns: &str,
        path: &Path<'_>,
    ) -> Result<NodeId, SchemaError> {
        let named = self.define(object, ns, path)?;
        // A record without fields stands in for the record while its fields are parsed, so
        // that they can refer to it; it is replaced below.
        let id = self.register(Node::Record(Box::new(Record {
            named: named.clone(),
            event_type: None,
            fields: Vec::new(),
            by_name: Box::default(),
        })));
        let raw_fields =
            attributes::required_array(object, "fields", path, "a record needs a `fields` array")?;
        let inner_ns = named.name.namespace().to_owned();
        let mut fields: Vec<Field> = Vec::with_capacity(raw_fields.len());
        for (index, raw) in raw_fields.iter().enumerate() {
            let field = self.field(raw, &inner_ns, path, index)?;
            if fields.iter().any(|earlier| earlier.name == field.name) {
                let field_path = path.field(index, &field.name);
                return Err(error(
                    &field_path.key("name"),
                    format!(
                        "field `{}` is defined twice in record `{}`",
                        field.name,
                        named.name.full()
                    ),
                ));
            }
            if field.default.is_some() {
                self.pending.push(PendingDefault {
                    record: id,
                    field: index,
                    path: path.field(index, &field.name).key("default").to_string(),
                });
            }
            fields.push(field);
        }
        let mut by_name: Vec<u32> = (0..fields.len() as u32).collect();
        by_name.sort_by(|&a, &b| fields[a as usize].name.cmp(&fields[b as usize].name));
        self.nodes[id as usize] = Node::Record(Box::new(Record {
            named,
            event_type: object
                .get(EVENT_TYPE_ATTRIBUTE)
                .and_then(Value::as_str)
                .map(str::to_owned),
            fields,
            by_name: by_name.into_boxed_slice(),
        }));
        Ok(id)
    }

    fn field(
        &mut self,
        raw: &Value,
        ns: &str,
        record_path: &Path<'_>,
        index: usize,
    ) -> Result<Field, SchemaError> {
        let unnamed = record_path.field(index, "");
        let Value::Object(object) = raw else {
            return Err(error(
                &unnamed,
                format!("a field must be an object, found {}", kind_of(raw)),
            ));
        };
        let name = match object.get("name") {
            Some(Value::String(name)) if is_simple_name(name) => name.as_str(),
            Some(Value::String(name)) => {
                return Err(error(
                    &unnamed.key("name"),
                    format!(
                        "`{name}` is not a valid field name (letters, digits and `_`, not starting with a digit)"
                    ),
                ));
            }
            Some(other) => {
                return Err(error(
                    &unnamed.key("name"),
                    format!("a field `name` must be a string, found {}", kind_of(other)),
                ));
            }
            None => return Err(error(&unnamed, "a field needs a `name`")),
        };
        let path = record_path.field(index, name);
        let ty = object
            .get("type")
            .ok_or_else(|| error(&path, format!("field `{name}` needs a `type`")))?;
        let ty = self.schema(ty, ns, &path.key("type"))?;
        let aliases = names::simple_names(
            attributes::aliases(object, &path)?,
            &path.key("aliases"),
            "a field alias must be a valid field name",
        )?;
        let order = match object.get("order") {
            None => Order::Ascending,
            Some(Value::String(order)) if order == "ascending" => Order::Ascending,
            Some(Value::String(order)) if order == "descending" => Order::Descending,
            Some(Value::String(order)) if order == "ignore" => Order::Ignore,
            Some(_) => {
                return Err(error(
                    &path.key("order"),
                    "`order` must be \"ascending\", \"descending\" or \"ignore\"",
                ));
            }
        };
        Ok(Field {
            name: name.to_owned(),
            ty,
            // The raw default for now; normalized (and validated) once the arena is complete.
            default: object.get("default").cloned(),
            aliases,
            order,
        })
    }

    fn enumeration(
        &mut self,
        object: &Map<String, Value>,
        ns: &str,
        path: &Path<'_>,
    ) -> Result<NodeId, SchemaError> {
        let named = self.define(object, ns, path)?;
        let symbols_path = path.key("symbols");
        let raw =
            attributes::required_array(object, "symbols", path, "an enum needs a `symbols` array")?;
        let symbols = names::simple_names(
            raw,
            &symbols_path,
            "an enum symbol must be a name (letters, digits and `_`, not starting with a digit)",
        )?;
        let mut sorted: Vec<u32> = (0..symbols.len() as u32).collect();
        sorted.sort_by(|&a, &b| symbols[a as usize].cmp(&symbols[b as usize]));
        if let Some(pair) = sorted
            .windows(2)
            .find(|pair| symbols[pair[0] as usize] == symbols[pair[1] as usize])
        {
            let second = pair[0].max(pair[1]) as usize;
            return Err(error(
                &symbols_path.index(second),
                format!("symbol `{}` appears twice", symbols[second]),
            ));
        }
        let default = match object.get("default") {
            None => None,
            Some(Value::String(default)) if symbols.contains(default) => Some(default.clone()),
            Some(other) => {
                return Err(error(
                    &path.key("default"),
                    format!("the enum default must be one of its symbols, found {other}"),
                ));
            }
        };
        Ok(self.register(Node::Enum(Box::new(Enum {
            named,
            symbols,
            sorted: sorted.into_boxed_slice(),
            default,
        }))))
    }

    fn fixed(
        &mut self,
        object: &Map<String, Value>,
        ns: &str,
        path: &Path<'_>,
    ) -> Result<NodeId, SchemaError> {
        let size = match object.get("size") {
            Some(size) => size.as_u64().ok_or_else(|| {
                error(
                    &path.key("size"),
                    format!("`size` must be a non-negative integer, found {size}"),
                )
            })?,
            None => return Err(error(path, "a fixed type needs a `size`")),
        };
        let logical = logical(object, path)?;
        let named = self.define(object, ns, path)?;
        Ok(self.register(Node::Fixed(Box::new(Fixed {
            named,
            size,
            logical,
        }))))
    }

    fn normalize_defaults(&mut self) -> Result<(), SchemaError> {
        for pending in std::mem::take(&mut self.pending) {
            let Node::Record(record) = &self.nodes[pending.record as usize] else {
                continue;
            };
            let field = &record.fields[pending.field];
            let Some(raw) = &field.default else {
                continue;
            };
            let normalized = defaults::normalize(&self.nodes, field.ty, raw).map_err(|err| {
                SchemaError::Avro {
                    path: format!("{}{}", pending.path, err.at),
                    message: format!(
                        "invalid default for field `{}`: {}",
                        field.name, err.message
                    ),
                }
            })?;
            if let Node::Record(record) = &mut self.nodes[pending.record as usize] {
                record.fields[pending.field].default = Some(normalized);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    fn error_of(value: Value) -> (String, String) {
        match parse(&value) {
            Err(SchemaError::Avro { path, message }) => (path, message),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn namespaces_are_inherited_and_overridden() {
        let schema = parse(&json!({
            "type": "record", "name": "Outer", "namespace": "a.b",
            "fields": [
                {"name": "x", "type": {"type": "enum", "name": "E", "symbols": ["A"]}},
                {"name": "y", "type": {"type": "fixed", "name": "F", "namespace": "c", "size": 2}},
                {"name": "z", "type": {"type": "record", "name": "d.G", "fields": []}},
                {"name": "w", "type": "a.b.E"},
                {"name": "v", "type": "E"}
            ]
        }))
        .unwrap();
        let Node::Record(outer) = schema.node(schema.root()) else {
            panic!("not a record")
        };
        let full = |id: NodeId| match schema.node(id) {
            Node::Record(r) => r.named.name.full().to_owned(),
            Node::Enum(e) => e.named.name.full().to_owned(),
            Node::Fixed(f) => f.named.name.full().to_owned(),
            _ => String::new(),
        };
        assert_eq!(outer.named.name.full(), "a.b.Outer");
        assert_eq!(full(outer.fields[0].ty), "a.b.E");
        assert_eq!(full(outer.fields[1].ty), "c.F");
        assert_eq!(full(outer.fields[2].ty), "d.G");
        assert_eq!(outer.fields[3].ty, outer.fields[0].ty);
        assert_eq!(outer.fields[4].ty, outer.fields[0].ty);
    }

    #[test]
    fn errors_point_at_the_offending_attribute() {
        let cases = [
            (json!({"type": "record", "name": "R"}), "/"),
            (
                json!({"type": "record", "name": "9R", "fields": []}),
                "/name",
            ),
            (
                json!({"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}, {"name": "a", "type": "int"}]}),
                "/fields/1/name",
            ),
            (
                json!({"type": "record", "name": "R", "fields": [{"name": "a", "type": "int", "default": "x"}]}),
                "/fields/0/default",
            ),
            (
                json!({"type": "record", "name": "R", "fields": [{"name": "a", "type": {"type": "enum", "name": "E", "symbols": ["A", "B", "A"]}}]}),
                "/fields/0/type/symbols/2",
            ),
            (
                json!({"type": "record", "name": "R", "fields": [{"name": "a", "type": {"type": "fixed", "name": "F", "size": -1}}]}),
                "/fields/0/type/size",
            ),
            (
                json!({"type": "record", "name": "R", "fields": [{"name": "a", "type": ["int", "string", "int"]}]}),
                "/fields/0/type/2",
            ),
            (
                json!({"type": "record", "name": "R", "fields": [{"name": "a", "type": {"type": "map"}}]}),
                "/fields/0/type",
            ),
            (
                json!({"type": "record", "name": "R", "fields": [{"name": "a", "type": "int", "order": "up"}]}),
                "/fields/0/order",
            ),
            (
                json!({"type": "enum", "name": "E", "symbols": ["A"], "default": "B"}),
                "/default",
            ),
            (
                json!({"type": "record", "name": "int", "fields": []}),
                "/name",
            ),
            (json!(42), "/"),
        ];
        for (schema, expected) in cases {
            let (path, message) = error_of(schema.clone());
            assert_eq!(path, expected, "{schema} -> {message}");
            assert!(!message.is_empty());
        }
    }

    #[test]
    fn duplicate_named_types_are_rejected() {
        let (path, message) = error_of(json!({
            "type": "record", "name": "R", "fields": [
                {"name": "a", "type": {"type": "fixed", "name": "F", "size": 1}},
                {"name": "b", "type": {"type": "fixed", "name": "F", "size": 2}}
            ]
        }));
        assert_eq!(path, "/fields/1/type/name");
        assert!(message.contains("defined twice"), "{message}");
    }

    #[test]
    fn union_of_two_records_with_different_names_is_fine() {
        let schema = parse(&json!([
            {"type": "record", "name": "A", "fields": []},
            {"type": "record", "name": "B", "fields": []},
            "null"
        ]))
        .unwrap();
        assert!(matches!(schema.node(schema.root()), Node::Union(b) if b.len() == 3));
    }
}
