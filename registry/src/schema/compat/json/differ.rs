//! The comparison engine: walks two [`Model`]s side by side and collects Confluent's
//! differences, each with the path where it was found.
//!
//! Recursion over `$ref` cycles terminates because a pair of nodes that is already being
//! compared further up is taken as settled: compatible unless an earlier pass proved it
//! incompatible. Every pair is compared once per pass (memoized), and passes repeat until no
//! new pair is found incompatible, which reaches the greatest fixed point: the answer a
//! recursive schema should get, without an optimistic assumption made inside one branch
//! hiding a real incompatibility in another. A depth and a step budget bound the work on
//! hostile input.

use std::collections::{HashMap, HashSet};

use super::kinds::Kind;
use super::model::{Model, NodeId, Shape};
use super::{array, combined, object, scalar};

/// Deepest nesting of node pairs compared at once.
const MAX_DEPTH: usize = 200;
/// Most node pairs compared (memo hits excluded) for one pair of documents, over all passes.
const MAX_STEPS: usize = 250_000;

/// A difference with its path as unescaped JSON pointer tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Found {
    pub(super) kind: Kind,
    pub(super) path: Vec<String>,
    /// For a combination whose members carry distinct titles (Herald's export: one member
    /// per event type), the incompatible differences of each member against the member of
    /// the same title, which say why the combination changed.
    pub(super) causes: Vec<Cause>,
}

/// Why a titled member of a combination no longer matches: a difference inside it, with its
/// path relative to the combination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Cause {
    /// The member's title (for Herald's export, the event type).
    pub(super) title: String,
    pub(super) found: Found,
}

impl Found {
    /// The path as a JSON pointer fragment, `#/` for the root.
    pub(super) fn pointer(&self) -> String {
        pointer(&self.path)
    }
}

/// Unescaped JSON pointer tokens as a pointer fragment, `#/` for none.
pub(super) fn pointer(path: &[String]) -> String {
    let tokens: Vec<String> = path
        .iter()
        .map(|token| token.replace('~', "~0").replace('/', "~1"))
        .collect();
    format!("#/{}", tokens.join("/"))
}

/// What comparing one pair produced.
#[derive(Debug, Clone, Default)]
pub(super) struct Outcome {
    pub(super) found: Vec<Found>,
    /// Incompatible because of a pair settled as incompatible in an earlier pass, whose
    /// own differences are reported where that pair is compared.
    broken: bool,
}

impl Outcome {
    /// Whether every difference is in Confluent's strict compatible set.
    pub(super) fn is_compatible(&self) -> bool {
        !self.broken && self.found.iter().all(|found| found.kind.is_compatible())
    }
}

/// Differences collected for one pair.
#[derive(Debug, Default)]
pub(super) struct Acc {
    found: Vec<Found>,
    broken: bool,
}

impl Acc {
    /// Records a difference at `path`, relative to the pair being compared.
    pub(super) fn add(&mut self, kind: Kind, path: &[&str]) {
        self.add_with_causes(kind, path, Vec::new());
    }

    /// Records a difference at `path` with the causes that explain it.
    pub(super) fn add_with_causes(&mut self, kind: Kind, path: &[&str], causes: Vec<Cause>) {
        self.found.push(Found {
            kind,
            path: path.iter().map(|token| (*token).to_owned()).collect(),
            causes,
        });
    }

    /// Keeps the differences of a nested comparison, found under `prefix`.
    pub(super) fn absorb(&mut self, prefix: &[&str], outcome: Outcome) {
        self.broken |= outcome.broken;
        for mut found in outcome.found {
            let mut path: Vec<String> = prefix.iter().map(|token| (*token).to_owned()).collect();
            path.append(&mut found.path);
            found.path = path;
            self.found.push(found);
        }
    }
}

/// A pair of nodes, and whether the models are swapped.
type Key = (NodeId, NodeId, bool);

/// Compares nodes of an original model with nodes of an updated one.
pub(super) struct Differ<'m> {
    original: &'m Model,
    update: &'m Model,
    /// True while comparing with the two models swapped (inside `not`).
    flipped: bool,
    /// Results of the current pass.
    memo: HashMap<Key, Outcome>,
    /// Pairs being compared, outermost first.
    open: HashSet<Key>,
    /// Pairs found incompatible in any pass so far.
    failing: HashSet<Key>,
    steps: usize,
}

impl<'m> Differ<'m> {
    pub(super) fn new(original: &'m Model, update: &'m Model) -> Self {
        Differ {
            original,
            update,
            flipped: false,
            memo: HashMap::new(),
            open: HashSet::new(),
            failing: HashSet::new(),
            steps: 0,
        }
    }

    /// The model the first argument of [`Differ::compare`] indexes.
    pub(super) fn original(&self) -> &'m Model {
        self.original
    }

    /// The model the second argument of [`Differ::compare`] indexes.
    pub(super) fn update(&self) -> &'m Model {
        self.update
    }

    /// Compares `update` against `original` with the roles of the two models swapped, as
    /// `not` needs.
    pub(super) fn compare_swapped(&mut self, update: NodeId, original: NodeId) -> Outcome {
        std::mem::swap(&mut self.original, &mut self.update);
        self.flipped = !self.flipped;
        let outcome = self.compare(update, original);
        std::mem::swap(&mut self.original, &mut self.update);
        self.flipped = !self.flipped;
        outcome
    }

    /// Compares two optional subschemas: one missing on a side is `SCHEMA_ADDED` or
    /// `SCHEMA_REMOVED` at the subschema's own path.
    pub(super) fn compare_optional(
        &mut self,
        original: Option<NodeId>,
        update: Option<NodeId>,
    ) -> Outcome {
        match (original, update) {
            (Some(original), Some(update)) => self.compare(original, update),
            (None, None) => leaf(Vec::new()),
            (None, Some(_)) => leaf(vec![found(Kind::SCHEMA_ADDED)]),
            (Some(_), None) => leaf(vec![found(Kind::SCHEMA_REMOVED)]),
        }
    }

    /// Every difference between the two roots, iterating passes to the fixed point.
    pub(super) fn run(&mut self, original: NodeId, update: NodeId) -> Vec<Found> {
        loop {
            let known = self.failing.len();
            self.memo.clear();
            let outcome = self.compare(original, update);
            if self.failing.len() == known || self.steps >= MAX_STEPS {
                return outcome.found;
            }
        }
    }

    /// Every difference between `original` and `update`, with paths relative to them.
    pub(super) fn compare(&mut self, original: NodeId, update: NodeId) -> Outcome {
        let original = self.original.resolve(original);
        let update = self.update.resolve(update);
        let key = (original, update, self.flipped);
        if let Some(outcome) = self.memo.get(&key) {
            return outcome.clone();
        }
        if self.open.contains(&key) {
            return Outcome {
                found: Vec::new(),
                broken: self.failing.contains(&key),
            };
        }
        if self.open.len() >= MAX_DEPTH || self.steps >= MAX_STEPS {
            return Outcome::default();
        }
        self.steps += 1;
        self.open.insert(key);
        let acc = self.compare_nodes(original, update);
        self.open.remove(&key);
        let outcome = Outcome {
            found: acc.found,
            broken: acc.broken,
        };
        if !outcome.is_compatible() {
            self.failing.insert(key);
        }
        self.memo.insert(key, outcome.clone());
        outcome
    }

    fn compare_nodes(&mut self, original: NodeId, update: NodeId) -> Acc {
        let (old, new) = (self.original, self.update);
        let mut acc = Acc::default();
        if self.compare_across_combination(&mut acc, original, update) {
            return acc;
        }
        let (old_shape, new_shape) = (old.shape(original), new.shape(update));
        if !same_family(old_shape, new_shape) {
            // Anything may become `{}`/`true`, and `false` may become anything.
            if !matches!(old_shape, Shape::False) && !matches!(new_shape, Shape::Empty) {
                acc.add(Kind::TYPE_CHANGED, &[]);
            }
            return acc;
        }
        let (a, b) = (
            &old.node(original).annotations,
            &new.node(update).annotations,
        );
        if a.id != b.id {
            acc.add(Kind::ID_CHANGED, &[]);
        }
        if a.title != b.title {
            acc.add(Kind::TITLE_CHANGED, &[]);
        }
        if a.description != b.description {
            acc.add(Kind::DESCRIPTION_CHANGED, &[]);
        }
        if a.default != b.default {
            acc.add(Kind::DEFAULT_CHANGED, &[]);
        }
        match (old_shape, new_shape) {
            (Shape::String(a), Shape::String(b)) => scalar::strings(&mut acc, a, b),
            (Shape::Number(a), Shape::Number(b)) => scalar::numbers(&mut acc, a, b),
            (Shape::Enum(a), Shape::Enum(b)) => scalar::enums(&mut acc, a, b),
            (Shape::Const(a), Shape::Const(b)) => scalar::consts(&mut acc, a, b),
            (Shape::Combined(ca, sa), Shape::Combined(cb, sb)) => {
                combined::combined(self, &mut acc, (*ca, sa), (*cb, sb));
            }
            (Shape::Not(a), Shape::Not(b)) => combined::not(self, &mut acc, *a, *b),
            (Shape::Object(a), Shape::Object(b)) => object::objects(self, &mut acc, a, b),
            (Shape::Array(a), Shape::Array(b)) => array::arrays(self, &mut acc, a, b),
            (Shape::Unresolved(a), Shape::Unresolved(b)) if a != b => {
                acc.add(Kind::TYPE_CHANGED, &[]);
            }
            _ => {}
        }
        acc
    }

    /// Confluent's special cases for a combined schema facing a plain one: a singleton
    /// combination stands for its only member, a plain schema that matches one branch of
    /// a new `anyOf`/`oneOf` is a widening, and an `allOf` one of whose members matches the
    /// new plain schema is a narrowing of the product. Returns true when decided here.
    fn compare_across_combination(
        &mut self,
        acc: &mut Acc,
        original: NodeId,
        update: NodeId,
    ) -> bool {
        let (old, new) = (self.original, self.update);
        match (old.shape(original), new.shape(update)) {
            (Shape::Combined(..), Shape::Combined(..)) => false,
            (_, Shape::Combined(criterion, members)) => {
                if let [only] = members.as_slice() {
                    let outcome = self.compare(original, *only);
                    if outcome.is_compatible() {
                        acc.absorb(&[], outcome);
                        return true;
                    }
                } else if *criterion != super::model::Criterion::All {
                    for member in members {
                        let outcome = self.compare(original, *member);
                        if outcome.is_compatible() {
                            acc.absorb(&[], outcome);
                            acc.add(Kind::SUM_TYPE_EXTENDED, &[]);
                            return true;
                        }
                    }
                }
                false
            }
            (Shape::Combined(criterion, members), _) => {
                if let [only] = members.as_slice() {
                    let outcome = self.compare(*only, update);
                    if outcome.is_compatible() {
                        acc.absorb(&[], outcome);
                        return true;
                    }
                }
                if *criterion == super::model::Criterion::All && members.len() > 1 {
                    for member in members {
                        let outcome = self.compare(*member, update);
                        if outcome.is_compatible() {
                            acc.absorb(&[], outcome);
                            acc.add(Kind::PRODUCT_TYPE_NARROWED, &[]);
                            return true;
                        }
                    }
                }
                false
            }
            _ => false,
        }
    }
}

fn leaf(found: Vec<Found>) -> Outcome {
    Outcome {
        found,
        broken: false,
    }
}

fn found(kind: Kind) -> Found {
    Found {
        kind,
        path: Vec::new(),
        causes: Vec::new(),
    }
}

/// Whether two shapes are the same kind of schema, so that their keywords are compared
/// rather than the change being reported as `TYPE_CHANGED`.
fn same_family(a: &Shape, b: &Shape) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}
