//! A typed view of a JSON Schema document, shaped the way Confluent's loader sees it before
//! diffing: one node per validating concern (string, number, object, array, enum, const,
//! combined, not), several concerns on one schema object joined by a synthetic `allOf`, a
//! `type` array turned into an `anyOf`, and `$ref`s resolved to the node they point at.
//!
//! Nodes live in an arena and refer to each other by index, so recursive schemas become
//! cyclic graphs without any unbounded recursion at build time: a node is registered under
//! its JSON pointer before it is built, a `$ref` only registers its target, and registered
//! targets are built from a worklist.

mod lower;

use serde_json::Value;

use crate::schema::Draft;

/// Index of a node in a [`Model`].
pub(super) type NodeId = usize;

/// A JSON Schema document lowered into typed nodes.
#[derive(Debug)]
pub(super) struct Model {
    nodes: Vec<Node>,
    root: NodeId,
}

/// One schema node: the annotations Confluent compares, and what it validates.
#[derive(Debug)]
pub(super) struct Node {
    pub(super) annotations: Annotations,
    pub(super) shape: Shape,
}

/// `$id`, `title`, `description` and `default`.
#[derive(Debug, Default)]
pub(super) struct Annotations {
    pub(super) id: Option<String>,
    pub(super) title: Option<String>,
    pub(super) description: Option<String>,
    pub(super) default: Option<Value>,
}

/// What a node validates.
#[derive(Debug)]
pub(super) enum Shape {
    /// `{}` or `true`: accepts anything.
    Empty,
    /// `false`: accepts nothing.
    False,
    /// `"type": "boolean"`.
    Boolean,
    /// `"type": "null"`.
    Null,
    /// String keywords.
    String(StringRules),
    /// Number keywords (`integer` is a number that requires an integer).
    Number(NumberRules),
    /// `enum`.
    Enum(Vec<Value>),
    /// `const`.
    Const(Value),
    /// `allOf`, `anyOf` or `oneOf`, with duplicate subschemas collapsed.
    Combined(Criterion, Vec<NodeId>),
    /// `not`.
    Not(NodeId),
    /// Object keywords.
    Object(Box<ObjectRules>),
    /// Array keywords.
    Array(Box<ArrayRules>),
    /// `if`/`then`/`else`: compared by annotations only, as Confluent does.
    Conditional,
    /// A `$ref` that does not point into this document; compared by its text.
    Unresolved(String),
    /// A `$ref` to another node; removed when the model is finished.
    Ref(NodeId),
}

/// The criterion of a combined schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Criterion {
    /// `allOf`
    All,
    /// `anyOf`
    Any,
    /// `oneOf`
    One,
}

impl Criterion {
    /// The keyword, used as a path segment.
    pub(super) fn keyword(self) -> &'static str {
        match self {
            Criterion::All => "allOf",
            Criterion::Any => "anyOf",
            Criterion::One => "oneOf",
        }
    }
}

#[derive(Debug, Default)]
pub(super) struct StringRules {
    pub(super) min_length: Option<u64>,
    pub(super) max_length: Option<u64>,
    pub(super) pattern: Option<String>,
}

#[derive(Debug, Default)]
pub(super) struct NumberRules {
    pub(super) minimum: Option<f64>,
    pub(super) maximum: Option<f64>,
    pub(super) exclusive_minimum: Option<f64>,
    pub(super) exclusive_maximum: Option<f64>,
    pub(super) multiple_of: Option<f64>,
    pub(super) integer: bool,
}

/// A `patternProperties` entry; `regex` is `None` when the pattern does not compile.
#[derive(Debug)]
pub(super) struct PatternProperty {
    pub(super) regex: Option<regex::Regex>,
    pub(super) schema: NodeId,
}

#[derive(Debug, Default)]
pub(super) struct ObjectRules {
    pub(super) properties: Vec<(String, NodeId)>,
    pub(super) required: Vec<String>,
    /// False when `additionalProperties` is `false`.
    pub(super) permits_additional: bool,
    /// The schema of `additionalProperties` when it is an object.
    pub(super) additional: Option<NodeId>,
    pub(super) pattern_properties: Vec<PatternProperty>,
    pub(super) unevaluated: Option<NodeId>,
    pub(super) property_dependencies: Vec<(String, Vec<String>)>,
    pub(super) schema_dependencies: Vec<(String, NodeId)>,
    pub(super) min_properties: Option<u64>,
    pub(super) max_properties: Option<u64>,
}

#[derive(Debug, Default)]
pub(super) struct ArrayRules {
    /// `items` as one schema for every item.
    pub(super) all_items: Option<NodeId>,
    /// `items` as an array (drafts before 2020-12) or `prefixItems`.
    pub(super) tuple: Vec<NodeId>,
    /// False when additional items are forbidden.
    pub(super) permits_additional: bool,
    /// The schema of additional items.
    pub(super) additional: Option<NodeId>,
    pub(super) unevaluated: Option<NodeId>,
    pub(super) min_items: Option<u64>,
    pub(super) max_items: Option<u64>,
    pub(super) unique_items: bool,
    pub(super) min_contains: Option<u64>,
    pub(super) max_contains: Option<u64>,
}

impl Model {
    /// Lowers a meta-validated document written in `draft`.
    pub(super) fn build(document: &Value, draft: Draft) -> Model {
        lower::build(document, draft)
    }

    /// The root node.
    pub(super) fn root(&self) -> NodeId {
        self.root
    }

    /// The node at `id`.
    pub(super) fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    /// The shape at `id`.
    pub(super) fn shape(&self, id: NodeId) -> &Shape {
        &self.nodes[id].shape
    }

    /// Follows `$ref` aliases so that no reachable node is a [`Shape::Ref`]; a chain of refs
    /// that loops without reaching a schema becomes an empty schema, as it constrains nothing.
    fn collapse_refs(&mut self) {
        let targets: Vec<Option<NodeId>> = (0..self.nodes.len())
            .map(|start| {
                let mut current = start;
                for _ in 0..=self.nodes.len() {
                    match self.nodes[current].shape {
                        Shape::Ref(next) => current = next,
                        _ => return Some(current),
                    }
                }
                None
            })
            .collect();
        for (node, target) in self.nodes.iter_mut().zip(targets) {
            if let Shape::Ref(_) = node.shape {
                node.shape = match target {
                    Some(target) => Shape::Ref(target),
                    None => Shape::Empty,
                };
            }
        }
    }

    /// The node `id` stands for, with any `$ref` followed.
    pub(super) fn resolve(&self, id: NodeId) -> NodeId {
        match self.nodes[id].shape {
            Shape::Ref(target) => target,
            _ => id,
        }
    }
}
