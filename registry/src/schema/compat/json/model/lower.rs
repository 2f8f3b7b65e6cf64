//! Lowering a JSON Schema document into a [`Model`]: each schema object becomes the nodes
//! of its validating concerns, `$ref`s are registered under their target's pointer and built
//! from a worklist.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::{
    Annotations, ArrayRules, Criterion, Model, Node, NodeId, NumberRules, ObjectRules,
    PatternProperty, Shape, StringRules,
};
use crate::schema::Draft;
use crate::schema::json::RefIndex;

/// Lowers a meta-validated document written in `draft`.
pub(super) fn build(document: &Value, draft: Draft) -> Model {
    let mut builder = Builder {
        document,
        draft,
        refs: RefIndex::new(document, draft),
        nodes: Vec::new(),
        by_pointer: HashMap::new(),
        pending: Vec::new(),
    };
    let root = builder.at_pointer(document, String::new());
    // `$ref` targets are built here rather than where they are referenced, so that the
    // build recurses no deeper than the document nests.
    while let Some((pointer, id)) = builder.pending.pop() {
        if let Some(value) = pointer_get(document, &pointer) {
            let node = builder.lower(value, &pointer);
            builder.nodes[id] = node;
        }
    }
    let mut model = Model {
        nodes: builder.nodes,
        root,
    };
    model.collapse_refs();
    model
}

const STRING_KEYWORDS: &[&str] = &["minLength", "maxLength", "pattern", "format"];
const NUMBER_KEYWORDS: &[&str] = &[
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
];
const OBJECT_KEYWORDS: &[&str] = &[
    "properties",
    "required",
    "additionalProperties",
    "patternProperties",
    "minProperties",
    "maxProperties",
    "dependencies",
    "propertyNames",
    "dependentRequired",
    "dependentSchemas",
    "unevaluatedProperties",
];
const ARRAY_KEYWORDS: &[&str] = &[
    "items",
    "additionalItems",
    "minItems",
    "maxItems",
    "uniqueItems",
    "contains",
    "prefixItems",
    "unevaluatedItems",
    "minContains",
    "maxContains",
];

struct Builder<'a> {
    document: &'a Value,
    draft: Draft,
    refs: RefIndex,
    nodes: Vec<Node>,
    by_pointer: HashMap<String, NodeId>,
    /// Referenced pointers registered but not built yet.
    pending: Vec<(String, NodeId)>,
}

/// Appends an escaped reference token to a JSON pointer.
fn child_pointer(pointer: &str, token: &str) -> String {
    let escaped = token.replace('~', "~0").replace('/', "~1");
    format!("{pointer}/{escaped}")
}

impl<'a> Builder<'a> {
    fn modern(&self) -> bool {
        matches!(self.draft, Draft::Draft201909 | Draft::Draft202012)
    }

    fn push(&mut self, shape: Shape) -> NodeId {
        self.nodes.push(Node {
            annotations: Annotations::default(),
            shape,
        });
        self.nodes.len() - 1
    }

    /// The node for the schema `value` found at `pointer`, built once per pointer.
    fn at_pointer(&mut self, value: &'a Value, pointer: String) -> NodeId {
        if let Some(&id) = self.by_pointer.get(&pointer) {
            return id;
        }
        let id = self.push(Shape::Empty);
        self.by_pointer.insert(pointer.clone(), id);
        let node = self.lower(value, &pointer);
        self.nodes[id] = node;
        id
    }

    fn child(&mut self, value: &'a Value, pointer: &str, token: &str) -> NodeId {
        self.at_pointer(value, child_pointer(pointer, token))
    }

    fn reference(&mut self, reference: &str) -> Shape {
        let Some(target) = self.refs.resolve(reference) else {
            return Shape::Unresolved(reference.to_owned());
        };
        if pointer_get(self.document, &target).is_none() {
            return Shape::Unresolved(reference.to_owned());
        }
        if let Some(&id) = self.by_pointer.get(&target) {
            return Shape::Ref(id);
        }
        let id = self.push(Shape::Empty);
        self.by_pointer.insert(target.clone(), id);
        self.pending.push((target, id));
        Shape::Ref(id)
    }

    fn lower(&mut self, value: &'a Value, pointer: &str) -> Node {
        let map = match value {
            Value::Bool(true) => return bare(Shape::Empty),
            Value::Bool(false) => return bare(Shape::False),
            Value::Object(map) => map,
            _ => return bare(Shape::Empty),
        };
        let annotations = self.annotations(map);
        if let Some(Value::String(reference)) = map.get("$ref") {
            let target = self.reference(reference);
            if !self.modern() {
                // Up to draft 7, `$ref` replaces every keyword beside it.
                return bare(target);
            }
            let mut parts = vec![self.push(target)];
            parts.extend(self.parts(map, pointer));
            if parts.len() == 1 {
                return Node {
                    annotations: Annotations::default(),
                    shape: Shape::Ref(parts[0]),
                };
            }
            return Node {
                annotations,
                shape: Shape::Combined(Criterion::All, parts),
            };
        }
        let mut parts = self.parts(map, pointer);
        let shape = match parts.len() {
            0 => Shape::Empty,
            1 => {
                let only = parts.remove(0);
                std::mem::replace(&mut self.nodes[only].shape, Shape::Empty)
            }
            _ => Shape::Combined(Criterion::All, parts),
        };
        Node { annotations, shape }
    }

    fn annotations(&self, map: &Map<String, Value>) -> Annotations {
        let text = |key: &str| map.get(key).and_then(Value::as_str).map(str::to_owned);
        let id = match self.draft {
            Draft::Draft4 => text("id"),
            Draft::Draft6 | Draft::Draft7 => text("$id"),
            Draft::Draft201909 | Draft::Draft202012 => None,
        };
        Annotations {
            id,
            title: text("title"),
            description: text("description"),
            default: map.get("default").cloned(),
        }
    }

    /// The validating parts of one schema object, each as its own node.
    fn parts(&mut self, map: &'a Map<String, Value>, pointer: &str) -> Vec<NodeId> {
        let mut parts = Vec::new();
        let types: Option<Vec<&str>> = match map.get("type") {
            Some(Value::String(name)) => Some(vec![name.as_str()]),
            Some(Value::Array(names)) => Some(names.iter().filter_map(Value::as_str).collect()),
            _ => None,
        };
        match types {
            Some(names) => {
                let mut typed: Vec<NodeId> = Vec::new();
                for name in names {
                    if let Some(shape) = self.typed(name, map, pointer) {
                        typed.push(self.push(shape));
                    }
                }
                match typed.len() {
                    0 => {}
                    1 => parts.extend(typed),
                    _ => parts.push(self.push(Shape::Combined(Criterion::Any, typed))),
                }
            }
            None => {
                if self.has_any(map, STRING_KEYWORDS) {
                    parts.push(self.push(Shape::String(string_rules(map))));
                }
                if self.has_any(map, NUMBER_KEYWORDS) {
                    let shape = Shape::Number(self.number_rules(map, false));
                    parts.push(self.push(shape));
                }
                if self.has_object_keywords(map) {
                    let shape = Shape::Object(Box::new(self.object_rules(map, pointer)));
                    parts.push(self.push(shape));
                }
                if self.has_any(map, ARRAY_KEYWORDS) {
                    let shape = Shape::Array(Box::new(self.array_rules(map, pointer)));
                    parts.push(self.push(shape));
                }
            }
        }
        if let Some(Value::Array(values)) = map.get("enum") {
            parts.push(self.push(Shape::Enum(values.clone())));
        }
        if let Some(value) = map.get("const") {
            parts.push(self.push(Shape::Const(value.clone())));
        }
        for criterion in [Criterion::All, Criterion::Any, Criterion::One] {
            if let Some(Value::Array(subschemas)) = map.get(criterion.keyword()) {
                let base = child_pointer(pointer, criterion.keyword());
                let mut distinct: Vec<&Value> = Vec::new();
                let mut ids = Vec::new();
                for (index, subschema) in subschemas.iter().enumerate() {
                    if distinct.contains(&subschema) {
                        continue;
                    }
                    distinct.push(subschema);
                    ids.push(self.child(subschema, &base, &index.to_string()));
                }
                parts.push(self.push(Shape::Combined(criterion, ids)));
            }
        }
        if let Some(inner) = map.get("not") {
            let inner = self.child(inner, pointer, "not");
            parts.push(self.push(Shape::Not(inner)));
        }
        if map.contains_key("if") {
            parts.push(self.push(Shape::Conditional));
        }
        parts
    }

    fn has_any(&self, map: &Map<String, Value>, keywords: &[&str]) -> bool {
        keywords.iter().any(|keyword| map.contains_key(*keyword))
    }

    /// Whether `map` has object keywords. From 2019-09 on, Confluent's loader ignores an
    /// empty `properties`, so `{"properties": {}}` is an empty schema there.
    fn has_object_keywords(&self, map: &Map<String, Value>) -> bool {
        OBJECT_KEYWORDS
            .iter()
            .any(|keyword| match map.get(*keyword) {
                None => false,
                Some(Value::Object(properties)) if *keyword == "properties" && self.modern() => {
                    !properties.is_empty()
                }
                Some(_) => true,
            })
    }

    fn typed(&mut self, name: &str, map: &'a Map<String, Value>, pointer: &str) -> Option<Shape> {
        Some(match name {
            "string" => Shape::String(string_rules(map)),
            "number" => Shape::Number(self.number_rules(map, false)),
            "integer" => Shape::Number(self.number_rules(map, true)),
            "boolean" => Shape::Boolean,
            "null" => Shape::Null,
            "object" => Shape::Object(Box::new(self.object_rules(map, pointer))),
            "array" => Shape::Array(Box::new(self.array_rules(map, pointer))),
            _ => return None,
        })
    }

    fn number_rules(&self, map: &Map<String, Value>, integer: bool) -> NumberRules {
        let number = |key: &str| map.get(key).and_then(Value::as_f64);
        NumberRules {
            minimum: number("minimum"),
            maximum: number("maximum"),
            // Draft 4 spells exclusive limits as booleans beside `minimum`/`maximum`;
            // only the numeric form of later drafts is a limit of its own.
            exclusive_minimum: number("exclusiveMinimum"),
            exclusive_maximum: number("exclusiveMaximum"),
            multiple_of: number("multipleOf"),
            integer,
        }
    }

    fn object_rules(&mut self, map: &'a Map<String, Value>, pointer: &str) -> ObjectRules {
        let mut rules = ObjectRules {
            permits_additional: true,
            ..ObjectRules::default()
        };
        if let Some(Value::Object(properties)) = map.get("properties") {
            let base = child_pointer(pointer, "properties");
            for (name, schema) in properties {
                let id = self.child(schema, &base, name);
                rules.properties.push((name.clone(), id));
            }
        }
        if let Some(Value::Array(required)) = map.get("required") {
            rules.required = required
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
        }
        match map.get("additionalProperties") {
            Some(Value::Bool(permits)) => rules.permits_additional = *permits,
            Some(schema @ Value::Object(_)) => {
                rules.additional = Some(self.child(schema, pointer, "additionalProperties"));
            }
            _ => {}
        }
        if let Some(Value::Object(patterns)) = map.get("patternProperties") {
            let base = child_pointer(pointer, "patternProperties");
            for (pattern, schema) in patterns {
                let schema = self.child(schema, &base, pattern);
                let regex = regex::RegexBuilder::new(pattern)
                    .size_limit(1 << 20)
                    .build()
                    .ok();
                rules
                    .pattern_properties
                    .push(PatternProperty { regex, schema });
            }
        }
        if self.modern()
            && let Some(schema) = map.get("unevaluatedProperties")
        {
            rules.unevaluated = Some(self.child(schema, pointer, "unevaluatedProperties"));
        }
        for keyword in ["dependencies", "dependentRequired", "dependentSchemas"] {
            let Some(Value::Object(entries)) = map.get(keyword) else {
                continue;
            };
            let base = child_pointer(pointer, keyword);
            for (name, dependency) in entries {
                match dependency {
                    Value::Array(names) => rules.property_dependencies.push((
                        name.clone(),
                        names
                            .iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect(),
                    )),
                    schema => {
                        let id = self.child(schema, &base, name);
                        rules.schema_dependencies.push((name.clone(), id));
                    }
                }
            }
        }
        rules.min_properties = map.get("minProperties").and_then(Value::as_u64);
        rules.max_properties = map.get("maxProperties").and_then(Value::as_u64);
        rules
    }

    fn array_rules(&mut self, map: &'a Map<String, Value>, pointer: &str) -> ArrayRules {
        let mut rules = ArrayRules {
            permits_additional: true,
            ..ArrayRules::default()
        };
        let tuple_keyword = if self.draft == Draft::Draft202012 {
            "prefixItems"
        } else {
            "items"
        };
        if let Some(Value::Array(schemas)) = map.get(tuple_keyword) {
            let base = child_pointer(pointer, tuple_keyword);
            rules.tuple = schemas
                .iter()
                .enumerate()
                .map(|(index, schema)| self.child(schema, &base, &index.to_string()))
                .collect();
        }
        if self.draft == Draft::Draft202012 {
            // `items` beside `prefixItems` (or given as a boolean) governs the items past
            // the tuple, which is what `additionalItems` did before.
            match map.get("items") {
                Some(Value::Bool(permits)) => rules.permits_additional = *permits,
                Some(schema @ Value::Object(_)) if map.contains_key("prefixItems") => {
                    rules.additional = Some(self.child(schema, pointer, "items"));
                }
                Some(schema @ Value::Object(_)) => {
                    rules.all_items = Some(self.child(schema, pointer, "items"));
                }
                _ => {}
            }
        } else {
            if let Some(schema @ (Value::Object(_) | Value::Bool(_))) = map.get("items") {
                rules.all_items = Some(self.child(schema, pointer, "items"));
            }
            match map.get("additionalItems") {
                Some(Value::Bool(permits)) => rules.permits_additional = *permits,
                Some(schema @ Value::Object(_)) => {
                    rules.additional = Some(self.child(schema, pointer, "additionalItems"));
                }
                _ => {}
            }
        }
        if self.modern()
            && let Some(schema) = map.get("unevaluatedItems")
        {
            rules.unevaluated = Some(self.child(schema, pointer, "unevaluatedItems"));
        }
        rules.min_items = map.get("minItems").and_then(Value::as_u64);
        rules.max_items = map.get("maxItems").and_then(Value::as_u64);
        rules.unique_items = map.get("uniqueItems") == Some(&Value::Bool(true));
        rules.min_contains = map.get("minContains").and_then(Value::as_u64);
        rules.max_contains = map.get("maxContains").and_then(Value::as_u64);
        rules
    }
}

fn bare(shape: Shape) -> Node {
    Node {
        annotations: Annotations::default(),
        shape,
    }
}

fn string_rules(map: &Map<String, Value>) -> StringRules {
    StringRules {
        min_length: map.get("minLength").and_then(Value::as_u64),
        max_length: map.get("maxLength").and_then(Value::as_u64),
        pattern: map
            .get("pattern")
            .and_then(Value::as_str)
            .map(str::to_owned),
    }
}

/// The value at a JSON pointer (`""` is the whole document), with `~0`/`~1` unescaped.
fn pointer_get<'v>(document: &'v Value, pointer: &str) -> Option<&'v Value> {
    if pointer.is_empty() {
        return Some(document);
    }
    let mut current = document;
    for token in pointer.strip_prefix('/')?.split('/') {
        let token = token.replace("~1", "/").replace("~0", "~");
        current = match current {
            Value::Object(map) => map.get(&token)?,
            Value::Array(items) => items.get(token.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(current)
}
