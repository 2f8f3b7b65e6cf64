//! The reading plan of a (writer, reader) pair of compiled schemas, resolved once as the
//! Avro specification says: promotions, fields matched by name or alias, defaults for the
//! reader's fields the writer lacks, writer's fields skipped, enums by symbol, and union
//! branches matched by type and name. A mismatch becomes a [`Step::Fail`] that errs only
//! when a datum reaches it (a union branch never written costs nothing).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::graph::{Graph, Node, NodeId};

/// The index of a step in its [`Steps`].
pub(crate) type StepId = usize;

/// Which graph a node id belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Side {
    Writer,
    Reader,
}

/// How to read one value: what to take from the input and what to hand to serde.
#[derive(Debug)]
pub(crate) enum Step {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
    IntAsLong,
    IntAsFloat,
    IntAsDouble,
    LongAsFloat,
    LongAsDouble,
    FloatAsDouble,
    StringAsBytes,
    BytesAsString,
    Fixed(usize),
    /// The reader's symbol for each of the writer's (`None`: unknown and no default).
    Enum(Vec<Option<String>>),
    Array(StepId),
    Map(StepId),
    /// A writer's union: the step of each of its branches.
    Union(Vec<StepId>),
    Record(RecordStep),
    Fail(String),
}

/// A record: the writer's fields in order, then the reader's defaults.
#[derive(Debug)]
pub(crate) struct RecordStep {
    pub(crate) fields: Vec<FieldStep>,
    pub(crate) defaults: Vec<DefaultField>,
    /// The address of the last list of struct field names (serde's `fields`) found to be
    /// this record's fields read in order, nothing skipped or defaulted: a struct with that
    /// list reads its fields as a sequence, with no name to match.
    pub(crate) in_order: AtomicUsize,
}

impl RecordStep {
    /// Whether a struct whose fields are `names` can read this record's fields as a
    /// sequence, in order. Checked once per list of names (serde's are `'static`).
    #[inline]
    pub(crate) fn reads_in_order(&self, names: &'static [&'static str]) -> bool {
        let address = names.as_ptr() as usize;
        if self.in_order.load(Ordering::Relaxed) == address {
            return true;
        }
        let same = self.defaults.is_empty()
            && self.fields.len() == names.len()
            && self.fields.iter().zip(names).all(
                |(field, name)| matches!(field, FieldStep::Read { name: read, .. } if read == name),
            );
        if same {
            self.in_order.store(address, Ordering::Relaxed);
        }
        same
    }
}

/// One of the writer's fields.
#[derive(Debug)]
pub(crate) enum FieldStep {
    /// Read as the reader's field `name`.
    Read { name: String, step: StepId },
    /// Not in the reader's record: skipped.
    Skip(Side, NodeId),
}

/// A reader's field the writer lacks, read from its default.
#[derive(Debug)]
pub(crate) struct DefaultField {
    pub(crate) name: String,
    pub(crate) bytes: Vec<u8>,
    pub(crate) step: StepId,
}

/// A resolved reading plan.
#[derive(Debug)]
pub(crate) struct Steps {
    pub(crate) steps: Vec<Step>,
    pub(crate) root: StepId,
}

impl Steps {
    /// The plan reading `writer`'s datums as `reader`'s (pass the same graph twice when they
    /// are one schema).
    pub(crate) fn resolve(writer: &Graph, reader: &Graph) -> Steps {
        let mut resolver = Resolver {
            writer,
            reader,
            steps: Vec::new(),
            memo: HashMap::new(),
        };
        let root = resolver.step(Side::Writer, writer.root, reader.root);
        Steps {
            steps: resolver.steps,
            root,
        }
    }
}

struct Resolver<'g> {
    writer: &'g Graph,
    reader: &'g Graph,
    steps: Vec<Step>,
    memo: HashMap<(Side, NodeId, NodeId), StepId>,
}

impl<'g> Resolver<'g> {
    fn graph(&self, side: Side) -> &'g Graph {
        match side {
            Side::Writer => self.writer,
            Side::Reader => self.reader,
        }
    }

    fn push(&mut self, step: Step) -> StepId {
        self.steps.push(step);
        self.steps.len() - 1
    }

    /// The step reading node `w` of `side`'s graph as the reader's node `r`.
    fn step(&mut self, side: Side, w: NodeId, r: NodeId) -> StepId {
        if let Some(&id) = self.memo.get(&(side, w, r)) {
            return id;
        }
        let wnode = self.graph(side).node(w);
        let rnode = self.reader.node(r);
        if let Node::Union(union) = wnode {
            let id = self.push(Step::Null);
            self.memo.insert((side, w, r), id);
            let branches = union
                .branches
                .iter()
                .map(|&branch| self.step(side, branch, r))
                .collect();
            self.steps[id] = Step::Union(branches);
            return id;
        }
        if let Node::Union(union) = rnode {
            let exact = union
                .branches
                .iter()
                .find(|&&b| same_type(wnode, self.reader.node(b)));
            let promoted = || {
                union
                    .branches
                    .iter()
                    .find(|&&b| promotion(wnode, self.reader.node(b)).is_some())
            };
            return match exact.or_else(promoted) {
                Some(&branch) => {
                    let id = self.step(side, w, branch);
                    self.memo.insert((side, w, r), id);
                    id
                }
                None => self.push(Step::Fail(format!(
                    "no branch of the reader's union reads the writer's {}",
                    wnode.type_name()
                ))),
            };
        }
        let step = match (wnode, rnode) {
            (Node::Record(_), Node::Record(_)) => return self.record(side, w, r),
            (Node::Array(wi), Node::Array(ri)) => {
                let (wi, ri) = (*wi, *ri);
                let id = self.push(Step::Null);
                self.memo.insert((side, w, r), id);
                self.steps[id] = Step::Array(self.step(side, wi, ri));
                return id;
            }
            (Node::Map(wv), Node::Map(rv)) => {
                let (wv, rv) = (*wv, *rv);
                let id = self.push(Step::Null);
                self.memo.insert((side, w, r), id);
                self.steps[id] = Step::Map(self.step(side, wv, rv));
                return id;
            }
            (Node::Enum(we), Node::Enum(re)) => Step::Enum(
                we.symbols
                    .iter()
                    .map(|symbol| {
                        re.symbols
                            .iter()
                            .find(|known| *known == symbol)
                            .or_else(|| re.default.and_then(|d| re.symbols.get(d)))
                            .cloned()
                    })
                    .collect(),
            ),
            (&Node::Fixed { size: ws, .. }, &Node::Fixed { size: rs, .. }) if ws == rs => {
                Step::Fixed(ws)
            }
            (w, r) => match promotion(w, r) {
                Some(step) => step,
                None => Step::Fail(format!(
                    "the writer's {} cannot be read as the reader's {}",
                    w.type_name(),
                    r.type_name()
                )),
            },
        };
        let id = self.push(step);
        self.memo.insert((side, w, r), id);
        id
    }

    fn record(&mut self, side: Side, w: NodeId, r: NodeId) -> StepId {
        let id = self.push(Step::Null);
        self.memo.insert((side, w, r), id);
        let (Node::Record(wrec), Node::Record(rrec)) =
            (self.graph(side).node(w), self.reader.node(r))
        else {
            return id;
        };
        let mut matched = vec![false; rrec.fields.len()];
        let mut fields = Vec::with_capacity(wrec.fields.len());
        for wf in &wrec.fields {
            let found = rrec
                .fields
                .iter()
                .position(|rf| rf.name == wf.name || rf.aliases.contains(&wf.name));
            fields.push(match found {
                Some(position) => {
                    matched[position] = true;
                    let rf = &rrec.fields[position];
                    FieldStep::Read {
                        name: rf.name.clone(),
                        step: self.step(side, wf.node, rf.node),
                    }
                }
                None => FieldStep::Skip(side, wf.node),
            });
        }
        let mut defaults = Vec::new();
        for (rf, _) in rrec.fields.iter().zip(&matched).filter(|(_, m)| !**m) {
            let Some(bytes) = &rf.default else {
                self.steps[id] = Step::Fail(format!(
                    "the reader's field `{}` is not in the writer's record `{}` and has no default",
                    rf.name, wrec.name
                ));
                return id;
            };
            defaults.push(DefaultField {
                name: rf.name.clone(),
                bytes: bytes.clone(),
                step: self.step(Side::Reader, rf.node, rf.node),
            });
        }
        self.steps[id] = Step::Record(RecordStep {
            fields,
            defaults,
            in_order: AtomicUsize::new(0),
        });
        id
    }
}

/// Whether a union branch is the writer's type itself (records by name).
fn same_type(w: &Node, r: &Node) -> bool {
    match (w, r) {
        (Node::Record(w), Node::Record(r)) => w.name == r.name,
        (Node::Fixed { size: ws, .. }, Node::Fixed { size: rs, .. }) => ws == rs,
        _ => std::mem::discriminant(w) == std::mem::discriminant(r),
    }
}

/// The step of a primitive read as itself or promoted, as the specification allows.
fn promotion(w: &Node, r: &Node) -> Option<Step> {
    Some(match (w, r) {
        (Node::Null, Node::Null) => Step::Null,
        (Node::Boolean, Node::Boolean) => Step::Boolean,
        (Node::Int, Node::Int) => Step::Int,
        (Node::Int, Node::Long) => Step::IntAsLong,
        (Node::Int, Node::Float) => Step::IntAsFloat,
        (Node::Int, Node::Double) => Step::IntAsDouble,
        (Node::Long, Node::Long) => Step::Long,
        (Node::Long, Node::Float) => Step::LongAsFloat,
        (Node::Long, Node::Double) => Step::LongAsDouble,
        (Node::Float, Node::Float) => Step::Float,
        (Node::Float, Node::Double) => Step::FloatAsDouble,
        (Node::Double, Node::Double) => Step::Double,
        (Node::Bytes, Node::Bytes) => Step::Bytes,
        (Node::Bytes, Node::String) => Step::BytesAsString,
        (Node::String, Node::String) => Step::String,
        (Node::String, Node::Bytes) => Step::StringAsBytes,
        _ => return None,
    })
}
