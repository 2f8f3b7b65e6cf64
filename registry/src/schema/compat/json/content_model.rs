//! Content-model rules shared by objects and arrays: a member (property or tuple item)
//! removed from or added to a model that is open, partially open or closed, and the
//! `additional*` and `unevaluated*` keywords that decide which it is.

use super::differ::{Acc, Differ};
use super::kinds::Kind;
use super::model::{Model, NodeId, Shape};

/// How the update's content model treats a member the original had and the update dropped.
pub(super) enum Dropped {
    /// Anything is accepted in its place.
    Open,
    /// Its values must match this schema (`additional*`, a pattern, `unevaluated*`).
    Partial(NodeId),
    /// Nothing is accepted in its place.
    Closed,
}

/// The kinds for a removed member: from an open model, covered and not covered by a
/// partially open one, a `false` member removed from a closed one, and any other member
/// removed from a closed one.
pub(super) struct RemovedKinds {
    pub(super) open: Kind,
    pub(super) covered: Kind,
    pub(super) not_covered: Kind,
    pub(super) false_closed: Kind,
    pub(super) closed: Kind,
}

/// The schema undeclared members must match when the model is partially open through
/// `additional*` (or, when that permits anything, a restrictive `unevaluated*`).
pub(super) fn beyond_declared(
    model: &Model,
    permits_additional: bool,
    additional: Option<NodeId>,
    unevaluated: Option<NodeId>,
) -> Option<NodeId> {
    if additional.is_some() {
        return additional;
    }
    let unevaluated = unevaluated.filter(|_| permits_additional)?;
    (!matches!(
        model.shape(model.resolve(unevaluated)),
        Shape::Empty | Shape::False
    ))
    .then_some(unevaluated)
}

/// Records the removal of member `before` (at `path`), whose place the update treats as
/// `dropped`.
pub(super) fn removed(
    differ: &mut Differ<'_>,
    acc: &mut Acc,
    path: &[&str],
    before: NodeId,
    dropped: Dropped,
    kinds: RemovedKinds,
) {
    let old = differ.original();
    match dropped {
        Dropped::Open => acc.add(kinds.open, path),
        Dropped::Partial(covering) => cover(
            differ,
            acc,
            path,
            (before, covering),
            [kinds.covered, kinds.not_covered],
        ),
        Dropped::Closed if matches!(old.shape(old.resolve(before)), Shape::False) => {
            acc.add(kinds.false_closed, path);
        }
        Dropped::Closed => acc.add(kinds.closed, path),
    }
}

/// Compares a member with the schema that covers it on the other side of a partially open
/// content model, and records whether it is covered (`kinds`: covered, not covered).
pub(super) fn cover(
    differ: &mut Differ<'_>,
    acc: &mut Acc,
    path: &[&str],
    (before, after): (NodeId, NodeId),
    [covered, not_covered]: [Kind; 2],
) {
    let outcome = differ.compare(before, after);
    let kind = if outcome.is_compatible() {
        covered
    } else {
        not_covered
    };
    acc.absorb(path, outcome);
    acc.add(kind, path);
}

/// Shared by objects and arrays: compares `additional*`, given for each side whether
/// additional members are permitted and the schema they must match; `kinds` are the added
/// (opened), removed (closed), extended and narrowed kinds.
pub(super) fn compare_additional(
    differ: &mut Differ<'_>,
    acc: &mut Acc,
    keyword: &str,
    (original_permits, original): (bool, Option<NodeId>),
    (update_permits, update): (bool, Option<NodeId>),
    [added, removed, extended, narrowed]: [Kind; 4],
) {
    let path = [keyword];
    if original_permits != update_permits {
        acc.add(if update_permits { added } else { removed }, &path);
        return;
    }
    match (original, update) {
        (None, Some(_)) => acc.add(narrowed, &path),
        (Some(_), None) => acc.add(extended, &path),
        (Some(before), Some(after)) => {
            let outcome = differ.compare(before, after);
            acc.absorb(&path, outcome);
        }
        (None, None) => {}
    }
}

/// Shared by objects and arrays: compares two optional `unevaluated*` schemas, where
/// `kinds` are the added (opened), removed (closed), extended and narrowed kinds.
pub(super) fn compare_unevaluated(
    differ: &mut Differ<'_>,
    acc: &mut Acc,
    keyword: &str,
    original: Option<NodeId>,
    update: Option<NodeId>,
    [added, removed, extended, narrowed]: [Kind; 4],
) {
    let (old, new) = (differ.original(), differ.update());
    let class = |model: &Model, id: NodeId| match model.shape(model.resolve(id)) {
        Shape::False => 0,
        Shape::Empty => 1,
        _ => 2,
    };
    let path = [keyword];
    match (original, update) {
        (None, None) => {}
        (None, Some(after)) => {
            let kind = if class(new, after) == 0 {
                removed
            } else {
                narrowed
            };
            acc.add(kind, &path);
        }
        (Some(before), None) => {
            let kind = if class(old, before) == 0 {
                added
            } else {
                extended
            };
            acc.add(kind, &path);
        }
        (Some(before), Some(after)) => match (class(old, before), class(new, after)) {
            (0, 0) | (1, 1) => {}
            (0, _) => acc.add(added, &path),
            (_, 0) => acc.add(removed, &path),
            (1, _) => acc.add(narrowed, &path),
            (_, 1) => acc.add(extended, &path),
            _ => {
                let outcome = differ.compare(before, after);
                acc.absorb(&path, outcome);
            }
        },
    }
}
