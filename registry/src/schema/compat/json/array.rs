//! Differences in array schemas: the schema for all items, tuple items added to or removed
//! from open, closed and partially open content models, `additionalItems`,
//! `unevaluatedItems` and the item-count limits.

use super::content_model::{self, Dropped, RemovedKinds, compare_additional, compare_unevaluated};
use super::differ::{Acc, Differ};
use super::kinds::Kind;
use super::model::{ArrayRules, Model, NodeId, Shape};
use super::scalar::limit;

pub(super) fn arrays(
    differ: &mut Differ<'_>,
    acc: &mut Acc,
    original: &ArrayRules,
    update: &ArrayRules,
) {
    let outcome = differ.compare_optional(original.all_items, update.all_items);
    acc.absorb(&["items"], outcome);
    tuple(differ, acc, original, update);
    additional(differ, acc, original, update);
    use Kind::*;
    compare_unevaluated(
        differ,
        acc,
        "unevaluatedItems",
        original.unevaluated,
        update.unevaluated,
        [
            UNEVALUATED_ITEMS_ADDED,
            UNEVALUATED_ITEMS_REMOVED,
            UNEVALUATED_ITEMS_EXTENDED,
            UNEVALUATED_ITEMS_NARROWED,
        ],
    );
    limit(
        acc,
        "maxItems",
        original.max_items,
        update.max_items,
        [
            MAX_ITEMS_ADDED,
            MAX_ITEMS_REMOVED,
            MAX_ITEMS_INCREASED,
            MAX_ITEMS_DECREASED,
        ],
    );
    limit(
        acc,
        "minItems",
        original.min_items,
        update.min_items,
        [
            MIN_ITEMS_ADDED,
            MIN_ITEMS_REMOVED,
            MIN_ITEMS_INCREASED,
            MIN_ITEMS_DECREASED,
        ],
    );
    match (original.unique_items, update.unique_items) {
        (true, false) => acc.add(UNIQUE_ITEMS_REMOVED, &["uniqueItems"]),
        (false, true) => acc.add(UNIQUE_ITEMS_ADDED, &["uniqueItems"]),
        _ => {}
    }
    limit(
        acc,
        "maxContains",
        original.max_contains,
        update.max_contains,
        [
            MAX_CONTAINS_ADDED,
            MAX_CONTAINS_REMOVED,
            MAX_CONTAINS_INCREASED,
            MAX_CONTAINS_DECREASED,
        ],
    );
    // `minContains` defaults to 1, so writing the default changes nothing.
    limit(
        acc,
        "minContains",
        Some(original.min_contains.unwrap_or(1)),
        Some(update.min_contains.unwrap_or(1)),
        [
            MIN_CONTAINS_ADDED,
            MIN_CONTAINS_REMOVED,
            MIN_CONTAINS_INCREASED,
            MIN_CONTAINS_DECREASED,
        ],
    );
}

/// Whether items past the tuple are accepted whatever their value.
fn is_open(model: &Model, rules: &ArrayRules) -> bool {
    rules.permits_additional
        && rules.additional.is_none()
        && rules
            .unevaluated
            .is_none_or(|id| matches!(model.shape(model.resolve(id)), Shape::Empty))
}

/// The schema items past the tuple must match, when the model is partially open.
fn partial_schema(model: &Model, rules: &ArrayRules) -> Option<NodeId> {
    content_model::beyond_declared(
        model,
        rules.permits_additional,
        rules.additional,
        rules.unevaluated,
    )
}

fn tuple(differ: &mut Differ<'_>, acc: &mut Acc, original: &ArrayRules, update: &ArrayRules) {
    let (old, new) = (differ.original(), differ.update());
    let shared = original.tuple.len().min(update.tuple.len());
    for index in 0..shared {
        let outcome = differ.compare(original.tuple[index], update.tuple[index]);
        acc.absorb(&["items", &index.to_string()], outcome);
    }
    for (index, &before) in original.tuple.iter().enumerate().skip(shared) {
        let position = index.to_string();
        let path = ["items", position.as_str()];
        let dropped = if is_open(new, update) {
            Dropped::Open
        } else {
            partial_schema(new, update).map_or(Dropped::Closed, Dropped::Partial)
        };
        let kinds = RemovedKinds {
            open: Kind::ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL,
            covered: Kind::ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL,
            not_covered: Kind::ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL,
            false_closed: Kind::ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL,
            closed: Kind::ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL,
        };
        content_model::removed(differ, acc, &path, before, dropped, kinds);
    }
    for (index, &after) in update.tuple.iter().enumerate().skip(shared) {
        let position = index.to_string();
        let path = ["items", position.as_str()];
        if is_open(old, original) {
            let kind = if matches!(new.shape(new.resolve(after)), Shape::Empty) {
                Kind::ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL
            } else {
                Kind::ITEM_ADDED_TO_OPEN_CONTENT_MODEL
            };
            acc.add(kind, &path);
        } else if let Some(covering) = partial_schema(old, original) {
            content_model::cover(
                differ,
                acc,
                &path,
                (covering, after),
                [
                    Kind::ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL,
                    Kind::ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL,
                ],
            );
        } else {
            acc.add(Kind::ITEM_ADDED_TO_CLOSED_CONTENT_MODEL, &path);
        }
    }
}

fn additional(differ: &mut Differ<'_>, acc: &mut Acc, original: &ArrayRules, update: &ArrayRules) {
    use Kind::*;
    compare_additional(
        differ,
        acc,
        "additionalItems",
        (original.permits_additional, original.additional),
        (update.permits_additional, update.additional),
        [
            ADDITIONAL_ITEMS_ADDED,
            ADDITIONAL_ITEMS_REMOVED,
            ADDITIONAL_ITEMS_EXTENDED,
            ADDITIONAL_ITEMS_NARROWED,
        ],
    );
}
