//! The fields a CEL_FIELD rule visits: a schema (Avro or JSON Schema) compiled once into a
//! tree of records, arrays, maps, unions and leaves, and the walk of a JSON message along it.
//!
//! The walk follows Confluent's clients: an Avro record's fields present in the message are
//! visited with `fullName` = the record's full name, a dot and the field's name; a JSON
//! Schema object's properties with `fullName` = the path from `$`. Array items and map values
//! are visited under their field; a union visits the first branch that holds the value (JSON
//! Schema `anyOf`: every branch that does, `oneOf`: the first). Leaves are the primitive types
//! (Avro: `null` too, the branch a null takes; JSON Schema: non-null values only); enums and
//! fixed are not visited. Which branch holds a value is decided from its JSON shape (type,
//! required properties, enum symbols), where Confluent's clients run a full validation.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::CelError;
use super::wildcard;

/// The type of a visited field, as the rules see it in `typeName`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FieldType {
    Record,
    Enum,
    Array,
    Map,
    Combined,
    Fixed,
    String,
    Bytes,
    Int,
    Long,
    Float,
    Double,
    Boolean,
    Null,
}

impl FieldType {
    /// Confluent's name of the type.
    pub(super) fn name(self) -> &'static str {
        match self {
            FieldType::Record => "RECORD",
            FieldType::Enum => "ENUM",
            FieldType::Array => "ARRAY",
            FieldType::Map => "MAP",
            FieldType::Combined => "COMBINED",
            FieldType::Fixed => "FIXED",
            FieldType::String => "STRING",
            FieldType::Bytes => "BYTES",
            FieldType::Int => "INT",
            FieldType::Long => "LONG",
            FieldType::Float => "FLOAT",
            FieldType::Double => "DOUBLE",
            FieldType::Boolean => "BOOLEAN",
            FieldType::Null => "NULL",
        }
    }

    /// Whether a CEL_FIELD rule runs on a value of this type.
    pub(super) fn is_primitive(self) -> bool {
        !matches!(
            self,
            FieldType::Record
                | FieldType::Enum
                | FieldType::Array
                | FieldType::Map
                | FieldType::Combined
                | FieldType::Fixed
        )
    }

    fn of_avro_primitive(name: &str) -> Option<FieldType> {
        Some(match name {
            "string" => FieldType::String,
            "bytes" => FieldType::Bytes,
            "int" => FieldType::Int,
            "long" => FieldType::Long,
            "float" => FieldType::Float,
            "double" => FieldType::Double,
            "boolean" => FieldType::Boolean,
            "null" => FieldType::Null,
            _ => return None,
        })
    }
}

/// A field as a rule sees it: its names and tags (the schema's `confluent:tags` and the
/// metadata's tags whose path pattern matches `fullName`).
#[derive(Debug)]
pub(super) struct Field {
    pub(super) name: Arc<String>,
    pub(super) full_name: Arc<String>,
    pub(super) tags: BTreeSet<String>,
    node: usize,
}

#[derive(Debug)]
enum Node {
    Record(Vec<Field>),
    Array(usize),
    Map(usize),
    /// The first branch that holds the value.
    Union(Vec<(Shape, usize)>),
    /// JSON Schema `allOf` (every branch), `anyOf` (every branch that holds the value) or
    /// `oneOf` (the first), then the properties and items beside them.
    Combined {
        all: Vec<usize>,
        any: Vec<(Shape, usize)>,
        one: Vec<(Shape, usize)>,
        fields: Vec<Field>,
        items: Option<usize>,
    },
    Leaf(FieldType),
}

/// What a value must look like to be held by a union branch.
#[derive(Debug, Default)]
struct Shape {
    /// JSON kinds accepted (`null`, `boolean`, `integer`, `number`, `string`, `array`,
    /// `object`); empty accepts any.
    kinds: Vec<&'static str>,
    /// Avro `int` (32 bits).
    int32: bool,
    /// Properties an object must have.
    required: Vec<String>,
    /// Properties an object may have (Avro records); `None`: any.
    known: Option<BTreeSet<String>>,
    /// Values accepted (enum symbols, `const`, `enum`); `None`: any.
    values: Option<Vec<Value>>,
}

impl Shape {
    fn holds(&self, value: &Value) -> bool {
        let kind_ok = self.kinds.is_empty()
            || self.kinds.iter().any(|kind| match (*kind, value) {
                ("null", Value::Null) | ("boolean", Value::Bool(_)) => true,
                ("string", Value::String(_)) | ("array", Value::Array(_)) => true,
                ("object", Value::Object(_)) | ("number", Value::Number(_)) => true,
                ("integer", Value::Number(n)) => {
                    n.as_i64()
                        .is_some_and(|i| !self.int32 || i32::try_from(i).is_ok())
                        || (!self.int32 && n.is_u64())
                }
                _ => false,
            });
        if !kind_ok {
            return false;
        }
        if let Some(values) = &self.values
            && !values.contains(value)
        {
            return false;
        }
        if let Value::Object(fields) = value {
            if !self.required.iter().all(|name| fields.contains_key(name)) {
                return false;
            }
            if let Some(known) = &self.known
                && !fields.keys().all(|name| known.contains(name))
            {
                return false;
            }
        }
        true
    }
}

/// A schema compiled for the walk.
#[derive(Debug)]
pub(super) struct Tree {
    json: bool,
    nodes: Vec<Node>,
    root: usize,
}

/// A primitive value the walk reached, with what a rule binds beside it.
pub(super) struct Leaf<'a> {
    pub(super) field: &'a Field,
    pub(super) kind: FieldType,
    /// The record holding the field, when the rule asked for `message`.
    pub(super) message: Option<&'a Value>,
}

/// What a leaf's visit answered: a CONDITION's verdict, or nothing.
pub(super) type Verdict = Option<bool>;

impl Tree {
    /// Compiles an Avro schema (its JSON).
    pub(super) fn avro(
        schema: &Value,
        tags: &BTreeMap<String, BTreeSet<String>>,
    ) -> Result<Tree, CelError> {
        let mut compiler = AvroCompiler {
            nodes: Vec::new(),
            named: HashMap::new(),
            tags,
        };
        let root = compiler.node(schema, "")?;
        Ok(Tree {
            json: false,
            nodes: compiler.nodes,
            root,
        })
    }

    /// Compiles a JSON Schema.
    pub(super) fn json_schema(
        schema: &Value,
        tags: &BTreeMap<String, BTreeSet<String>>,
    ) -> Result<Tree, CelError> {
        let mut compiler = JsonCompiler {
            root: schema,
            nodes: Vec::new(),
            refs: Vec::new(),
            tags,
        };
        let root = compiler.node(schema, "$")?;
        Ok(Tree {
            json: true,
            nodes: compiler.nodes,
            root,
        })
    }

    /// Visits the primitive values of `message` with `visit`, which may replace them. Fails
    /// with the first leaf whose visit fails, or whose verdict is `false` (a field visited
    /// directly or through a union; Confluent's clients do not fail a CONDITION on array
    /// items or map values).
    pub(super) fn walk<E>(
        &self,
        message: &mut Value,
        with_message: bool,
        visit: &mut dyn FnMut(Leaf<'_>, &mut Value) -> Result<Verdict, E>,
        refused: &dyn Fn() -> E,
    ) -> Result<(), E> {
        let mut walk = Walk {
            tree: self,
            with_message,
            visit,
            refused,
        };
        walk.node(self.root, None, None, message).map(|_| ())
    }
}

struct Walk<'t, 'v, E> {
    tree: &'t Tree,
    with_message: bool,
    visit: &'v mut dyn FnMut(Leaf<'_>, &mut Value) -> Result<Verdict, E>,
    refused: &'v dyn Fn() -> E,
}

impl<E> Walk<'_, '_, E> {
    fn node(
        &mut self,
        node: usize,
        field: Option<&Field>,
        message: Option<&Value>,
        value: &mut Value,
    ) -> Result<Verdict, E> {
        let Some(current) = self.tree.nodes.get(node) else {
            return Ok(None);
        };
        if self.tree.json && value.is_null() {
            return Ok(None);
        }
        match current {
            Node::Record(fields) => {
                self.fields(fields, value)?;
                Ok(None)
            }
            Node::Array(items) => {
                if let Value::Array(values) = value {
                    for item in values {
                        self.node(*items, field, message, item)?;
                    }
                }
                Ok(None)
            }
            Node::Map(values) => {
                if let Value::Object(entries) = value {
                    for entry in entries.values_mut() {
                        self.node(*values, field, message, entry)?;
                    }
                }
                Ok(None)
            }
            Node::Union(branches) => match branches.iter().find(|(shape, _)| shape.holds(value)) {
                Some((_, branch)) => self.node(*branch, field, message, value),
                None => Ok(None),
            },
            Node::Combined {
                all,
                any,
                one,
                fields,
                items,
            } => {
                let mut verdict = None;
                let chosen: Vec<usize> = if !all.is_empty() {
                    all.clone()
                } else if !one.is_empty() {
                    one.iter()
                        .find(|(shape, _)| shape.holds(value))
                        .map(|(_, branch)| *branch)
                        .into_iter()
                        .collect()
                } else {
                    any.iter()
                        .filter(|(shape, _)| shape.holds(value))
                        .map(|(_, branch)| *branch)
                        .collect()
                };
                for branch in chosen {
                    verdict = self.node(branch, field, message, value)?;
                }
                self.fields(fields, value)?;
                if let (Some(items), Value::Array(values)) = (items, value) {
                    for item in values {
                        self.node(*items, field, message, item)?;
                    }
                }
                Ok(verdict)
            }
            Node::Leaf(kind) => match field {
                Some(field) if kind.is_primitive() => {
                    let leaf = Leaf {
                        field,
                        kind: *kind,
                        message,
                    };
                    (self.visit)(leaf, value)
                }
                _ => Ok(None),
            },
        }
    }

    fn fields(&mut self, fields: &[Field], record: &mut Value) -> Result<(), E> {
        for field in fields {
            // A copy: the field is changed while the rule reads the record.
            let message = match (self.with_message, &*record) {
                (true, Value::Object(_)) => Some(record.clone()),
                _ => None,
            };
            let Some(value) = record.as_object_mut().and_then(|r| r.get_mut(&*field.name)) else {
                continue;
            };
            if self.node(field.node, Some(field), message.as_ref(), value)? == Some(false) {
                return Err((self.refused)());
            }
        }
        Ok(())
    }
}

/// The tags of a field: its own and those of the metadata whose pattern matches its full name.
fn field_tags(
    inline: Option<&Value>,
    full_name: &str,
    tags: &BTreeMap<String, BTreeSet<String>>,
) -> BTreeSet<String> {
    let mut all: BTreeSet<String> = inline
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|tag| tag.as_str().map(str::to_owned))
        .collect();
    for (pattern, pattern_tags) in tags {
        if wildcard::matches(full_name, pattern) {
            all.extend(pattern_tags.iter().cloned());
        }
    }
    all
}

struct AvroCompiler<'a> {
    nodes: Vec<Node>,
    /// Named types by full name.
    named: HashMap<String, usize>,
    tags: &'a BTreeMap<String, BTreeSet<String>>,
}

impl AvroCompiler<'_> {
    fn push(&mut self, node: Node) -> usize {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    /// The node of `schema`, in the namespace `namespace`.
    fn node(&mut self, schema: &Value, namespace: &str) -> Result<usize, CelError> {
        match schema {
            Value::String(name) => {
                if let Some(kind) = FieldType::of_avro_primitive(name) {
                    return Ok(self.push(Node::Leaf(kind)));
                }
                let full = full_name(name, namespace);
                match self
                    .named
                    .get(&full)
                    .or_else(|| self.named.get(name.as_str()))
                {
                    Some(node) => Ok(*node),
                    None => Err(CelError::Schema(format!("unknown Avro type `{name}`"))),
                }
            }
            Value::Array(branches) => {
                let mut compiled = Vec::with_capacity(branches.len());
                for branch in branches {
                    let node = self.node(branch, namespace)?;
                    compiled.push((self.shape(branch, namespace), node));
                }
                Ok(self.push(Node::Union(compiled)))
            }
            Value::Object(object) => {
                let kind = object.get("type").cloned().unwrap_or(Value::Null);
                match kind.as_str() {
                    Some("record" | "error") => self.record(object, namespace),
                    Some("enum" | "fixed") => {
                        let leaf = if kind == "enum" {
                            FieldType::Enum
                        } else {
                            FieldType::Fixed
                        };
                        let node = self.push(Node::Leaf(leaf));
                        let name = named_full_name(object, namespace)?;
                        self.named.insert(name, node);
                        Ok(node)
                    }
                    Some("array") => {
                        let items = object.get("items").unwrap_or(&Value::Null);
                        let items = self.node(items, namespace)?;
                        Ok(self.push(Node::Array(items)))
                    }
                    Some("map") => {
                        let values = object.get("values").unwrap_or(&Value::Null);
                        let values = self.node(values, namespace)?;
                        Ok(self.push(Node::Map(values)))
                    }
                    Some(name) => match FieldType::of_avro_primitive(name) {
                        Some(kind) => Ok(self.push(Node::Leaf(kind))),
                        None => self.node(&kind, namespace),
                    },
                    None => self.node(&kind, namespace),
                }
            }
            _ => Ok(self.push(Node::Leaf(FieldType::Null))),
        }
    }

    fn record(&mut self, object: &Map<String, Value>, namespace: &str) -> Result<usize, CelError> {
        let name = named_full_name(object, namespace)?;
        let own_namespace = name.rsplit_once('.').map_or("", |(ns, _)| ns).to_owned();
        let node = self.push(Node::Record(Vec::new()));
        self.named.insert(name.clone(), node);
        let mut fields = Vec::new();
        for field in object
            .get("fields")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(field_name) = field.get("name").and_then(Value::as_str) else {
                return Err(CelError::Schema(format!("a field of `{name}` has no name")));
            };
            let full = format!("{name}.{field_name}");
            let field_node =
                self.node(field.get("type").unwrap_or(&Value::Null), &own_namespace)?;
            fields.push(Field {
                name: Arc::new(field_name.to_owned()),
                tags: field_tags(field.get("confluent:tags"), &full, self.tags),
                full_name: Arc::new(full),
                node: field_node,
            });
        }
        if let Some(slot) = self.nodes.get_mut(node) {
            *slot = Node::Record(fields);
        }
        Ok(node)
    }

    /// What a value of the union branch `schema` looks like.
    fn shape(&self, schema: &Value, namespace: &str) -> Shape {
        let kind = |kinds: &[&'static str]| Shape {
            kinds: kinds.to_vec(),
            ..Shape::default()
        };
        let type_name = match schema {
            Value::Object(object) => object.get("type").and_then(Value::as_str),
            Value::String(name) => Some(name.as_str()),
            _ => None,
        };
        match type_name {
            Some("null") => kind(&["null"]),
            Some("boolean") => kind(&["boolean"]),
            Some("int") => Shape {
                int32: true,
                ..kind(&["integer"])
            },
            Some("long") => kind(&["integer"]),
            Some("float" | "double") => kind(&["number"]),
            Some("string" | "bytes" | "fixed") => kind(&["string"]),
            Some("array") => kind(&["array"]),
            Some("map") => kind(&["object"]),
            Some("enum") => Shape {
                values: schema
                    .get("symbols")
                    .and_then(Value::as_array)
                    .map(|symbols| symbols.to_vec()),
                ..kind(&["string"])
            },
            Some("record" | "error") => record_shape(schema),
            Some(name) => {
                // A named type defined earlier: the shape of its definition.
                let full = full_name(name, namespace);
                match self.named.get(&full).and_then(|n| self.nodes.get(*n)) {
                    Some(Node::Record(fields)) => Shape {
                        kinds: vec!["object"],
                        known: Some(fields.iter().map(|f| f.name.to_string()).collect()),
                        ..Shape::default()
                    },
                    Some(Node::Leaf(FieldType::Enum | FieldType::Fixed)) => kind(&["string"]),
                    _ => Shape::default(),
                }
            }
            None => Shape::default(),
        }
    }
}

/// An Avro record branch holds an object with its fields that have no default, and no other.
fn record_shape(schema: &Value) -> Shape {
    let fields = schema.get("fields").and_then(Value::as_array);
    let names = |with_default: bool| -> Vec<String> {
        fields
            .into_iter()
            .flatten()
            .filter(|f| with_default || f.get("default").is_none())
            .filter_map(|f| f.get("name").and_then(Value::as_str).map(str::to_owned))
            .collect()
    };
    Shape {
        kinds: vec!["object"],
        required: names(false),
        known: Some(names(true).into_iter().collect()),
        ..Shape::default()
    }
}

fn full_name(name: &str, namespace: &str) -> String {
    if name.contains('.') || namespace.is_empty() {
        name.to_owned()
    } else {
        format!("{namespace}.{name}")
    }
}

fn named_full_name(object: &Map<String, Value>, namespace: &str) -> Result<String, CelError> {
    let Some(name) = object.get("name").and_then(Value::as_str) else {
        return Err(CelError::Schema("a named Avro type has no name".to_owned()));
    };
    let namespace = object
        .get("namespace")
        .and_then(Value::as_str)
        .unwrap_or(namespace);
    Ok(full_name(name, namespace))
}

struct JsonCompiler<'a> {
    root: &'a Value,
    nodes: Vec<Node>,
    /// The `$ref`s being compiled, to stop at a recursive one.
    refs: Vec<String>,
    tags: &'a BTreeMap<String, BTreeSet<String>>,
}

impl<'a> JsonCompiler<'a> {
    fn push(&mut self, node: Node) -> usize {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    /// The node of `schema` at `path` (`$`, `$.a`, `$.a.b`).
    fn node(&mut self, schema: &'a Value, path: &str) -> Result<usize, CelError> {
        let Value::Object(object) = schema else {
            return Ok(self.push(Node::Leaf(FieldType::Combined)));
        };
        if let Some(Value::Array(types)) = object.get("type")
            && !types.is_empty()
        {
            let mut branches = Vec::new();
            for kind in types {
                let mut narrowed = object.clone();
                narrowed.insert("type".to_owned(), kind.clone());
                let narrowed = Value::Object(narrowed);
                let shape = json_shape(&narrowed);
                // The narrowed schema is a new value: compile it with a copy of this
                // compiler's state borrowing it only for the call.
                let node = self.owned_node(&narrowed, path)?;
                branches.push((shape, node));
            }
            return Ok(self.push(Node::Union(branches)));
        }
        let list = |key: &str| object.get(key).and_then(Value::as_array);
        if list("allOf").is_some() || list("anyOf").is_some() || list("oneOf").is_some() {
            let mut all = Vec::new();
            for branch in list("allOf").into_iter().flatten() {
                all.push(self.node(branch, path)?);
            }
            let mut any = Vec::new();
            for branch in list("anyOf").into_iter().flatten() {
                let resolved = self.resolve(branch);
                any.push((json_shape(resolved), self.node(branch, path)?));
            }
            let mut one = Vec::new();
            for branch in list("oneOf").into_iter().flatten() {
                let resolved = self.resolve(branch);
                one.push((json_shape(resolved), self.node(branch, path)?));
            }
            let fields = self.fields(object, path)?;
            let items = match object.get("items") {
                Some(items) => Some(self.node(items, path)?),
                None => None,
            };
            return Ok(self.push(Node::Combined {
                all,
                any,
                one,
                fields,
                items,
            }));
        }
        if let Some(items) = object.get("items") {
            let items = self.node(items, path)?;
            return Ok(self.push(Node::Array(items)));
        }
        if let Some(Value::String(reference)) = object.get("$ref") {
            if self.refs.contains(reference) {
                return Ok(self.push(Node::Leaf(FieldType::Combined)));
            }
            let target = self.lookup(reference)?;
            self.refs.push(reference.clone());
            let node = self.node(target, path);
            self.refs.pop();
            return node;
        }
        let kind = json_type(object);
        if kind == FieldType::Record {
            let fields = self.fields(object, path)?;
            return Ok(self.push(Node::Record(fields)));
        }
        Ok(self.push(Node::Leaf(kind)))
    }

    /// Compiles a schema made during compilation (a `type` list narrowed to one type).
    fn owned_node(&mut self, schema: &Value, path: &str) -> Result<usize, CelError> {
        let mut compiler = JsonCompiler {
            root: self.root,
            nodes: std::mem::take(&mut self.nodes),
            refs: std::mem::take(&mut self.refs),
            tags: self.tags,
        };
        let node = compiler.node(schema, path);
        self.nodes = compiler.nodes;
        self.refs = compiler.refs;
        node
    }

    fn fields(
        &mut self,
        object: &'a Map<String, Value>,
        path: &str,
    ) -> Result<Vec<Field>, CelError> {
        let mut fields = Vec::new();
        let Some(Value::Object(properties)) = object.get("properties") else {
            return Ok(fields);
        };
        for (name, schema) in properties {
            if !schema.is_object() {
                continue;
            }
            let full = format!("{path}.{name}");
            let node = self.node(schema, &full)?;
            fields.push(Field {
                name: Arc::new(name.clone()),
                tags: field_tags(schema.get("confluent:tags"), &full, self.tags),
                full_name: Arc::new(full),
                node,
            });
        }
        Ok(fields)
    }

    /// The schema a `$ref` of `schema` points at, or `schema`.
    fn resolve(&self, schema: &'a Value) -> &'a Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => self.lookup(reference).unwrap_or(schema),
            None => schema,
        }
    }

    fn lookup(&self, reference: &str) -> Result<&'a Value, CelError> {
        let pointer = reference.strip_prefix('#').ok_or_else(|| {
            CelError::Schema(format!(
                "only local `$ref`s are followed, not `{reference}`"
            ))
        })?;
        self.root
            .pointer(pointer)
            .ok_or_else(|| CelError::Schema(format!("`$ref` `{reference}` points at nothing")))
    }
}

/// Confluent's field type of a JSON Schema.
fn json_type(object: &Map<String, Value>) -> FieldType {
    if object.get("const").is_some_and(|v| !v.is_null())
        || object.get("enum").is_some_and(|v| !v.is_null())
    {
        return FieldType::Enum;
    }
    let has_properties = object
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| !p.is_empty());
    match object.get("type").and_then(Value::as_str) {
        Some("object") if has_properties => FieldType::Record,
        Some("object") => FieldType::Map,
        Some("array") => FieldType::Array,
        Some("string") => FieldType::String,
        Some("integer") => FieldType::Int,
        Some("number") => FieldType::Double,
        Some("boolean") => FieldType::Boolean,
        Some("null") => FieldType::Null,
        _ if object.contains_key("properties") => FieldType::Record,
        _ => FieldType::Null,
    }
}

/// What a value held by a JSON Schema branch looks like: its `type`s, `required`
/// properties, the simple `type` of each property present, `const` and `enum`.
fn json_shape(schema: &Value) -> Shape {
    let kinds = match schema.get("type") {
        Some(Value::String(kind)) => json_kind(kind).into_iter().collect(),
        Some(Value::Array(kinds)) => kinds
            .iter()
            .filter_map(Value::as_str)
            .filter_map(json_kind)
            .collect(),
        _ => Vec::new(),
    };
    let values = match (schema.get("const"), schema.get("enum")) {
        (Some(constant), _) => Some(vec![constant.clone()]),
        (None, Some(Value::Array(values))) => Some(values.clone()),
        _ => None,
    };
    let required = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|name| name.as_str().map(str::to_owned))
        .collect();
    Shape {
        kinds,
        int32: false,
        required,
        known: None,
        values,
    }
}

fn json_kind(kind: &str) -> Option<&'static str> {
    [
        "null", "boolean", "integer", "number", "string", "array", "object",
    ]
    .into_iter()
    .find(|k| *k == kind)
}
