//! Differences in object schemas: required properties, properties added to or removed from
//! open, closed and partially open content models, dependencies, `additionalProperties`,
//! `unevaluatedProperties` and the property-count limits.
//!
//! A content model is *open* when any extra property is accepted with any value, *closed*
//! when none is, and *partially open* when extra properties must match a schema (from
//! `patternProperties`, `additionalProperties` or `unevaluatedProperties`).

use super::content_model::{self, Dropped, RemovedKinds, compare_additional, compare_unevaluated};
use super::differ::{Acc, Differ};
use super::kinds::Kind;
use super::model::{Model, NodeId, ObjectRules, Shape};
use super::scalar::limit;

pub(super) fn objects(
    differ: &mut Differ<'_>,
    acc: &mut Acc,
    original: &ObjectRules,
    update: &ObjectRules,
) {
    required(differ, acc, original, update);
    properties(differ, acc, original, update);
    dependencies(differ, acc, original, update);
    additional(differ, acc, original, update);
    unevaluated(differ, acc, original.unevaluated, update.unevaluated);
    use Kind::*;
    limit(
        acc,
        "maxProperties",
        original.max_properties,
        update.max_properties,
        [
            MAX_PROPERTIES_ADDED,
            MAX_PROPERTIES_REMOVED,
            MAX_PROPERTIES_INCREASED,
            MAX_PROPERTIES_DECREASED,
        ],
    );
    limit(
        acc,
        "minProperties",
        original.min_properties,
        update.min_properties,
        [
            MIN_PROPERTIES_ADDED,
            MIN_PROPERTIES_REMOVED,
            MIN_PROPERTIES_INCREASED,
            MIN_PROPERTIES_DECREASED,
        ],
    );
}

fn property(rules: &ObjectRules, name: &str) -> Option<NodeId> {
    rules
        .properties
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, id)| *id)
}

fn is_required(rules: &ObjectRules, name: &str) -> bool {
    rules.required.iter().any(|key| key == name)
}

fn has_default(model: &Model, id: NodeId) -> bool {
    model.node(model.resolve(id)).annotations.default.is_some()
}

/// Whether extra properties are accepted whatever their value.
fn is_open(model: &Model, rules: &ObjectRules) -> bool {
    rules.pattern_properties.is_empty()
        && rules.additional.is_none()
        && rules.permits_additional
        && rules
            .unevaluated
            .is_none_or(|id| matches!(model.shape(model.resolve(id)), Shape::Empty))
}

/// The schema an extra property called `name` must match, when the model is partially open.
fn partial_schema(model: &Model, rules: &ObjectRules, name: &str) -> Option<NodeId> {
    for pattern in &rules.pattern_properties {
        if pattern
            .regex
            .as_ref()
            .is_some_and(|regex| regex.is_match(name))
        {
            return Some(pattern.schema);
        }
    }
    content_model::beyond_declared(
        model,
        rules.permits_additional,
        rules.additional,
        rules.unevaluated,
    )
}

fn required(differ: &Differ<'_>, acc: &mut Acc, original: &ObjectRules, update: &ObjectRules) {
    for (name, _) in &original.properties {
        let Some(updated) = property(update, name) else {
            continue;
        };
        match (is_required(original, name), is_required(update, name)) {
            (true, false) => acc.add(Kind::REQUIRED_ATTRIBUTE_REMOVED, &["required", name]),
            (false, true) => {
                let kind = if has_default(differ.update(), updated) {
                    Kind::REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED
                } else {
                    Kind::REQUIRED_ATTRIBUTE_ADDED
                };
                acc.add(kind, &["required", name]);
            }
            _ => {}
        }
    }
}

fn properties(
    differ: &mut Differ<'_>,
    acc: &mut Acc,
    original: &ObjectRules,
    update: &ObjectRules,
) {
    let (old, new) = (differ.original(), differ.update());
    let names = original
        .properties
        .iter()
        .chain(
            update
                .properties
                .iter()
                .filter(|(name, _)| property(original, name).is_none()),
        )
        .map(|(name, _)| name.as_str());
    for name in names {
        let path = ["properties", name];
        match (property(original, name), property(update, name)) {
            (Some(before), Some(after)) => {
                let outcome = differ.compare(before, after);
                acc.absorb(&path, outcome);
            }
            (Some(before), None) => {
                // Whether old values of a removed property are still accepted depends on
                // what the update does with properties it does not declare.
                let dropped = if is_open(new, update) {
                    Dropped::Open
                } else {
                    partial_schema(new, update, name).map_or(Dropped::Closed, Dropped::Partial)
                };
                let kinds = RemovedKinds {
                    open: Kind::PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL,
                    covered: Kind::PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL,
                    not_covered: Kind::PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL,
                    false_closed: Kind::PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL,
                    closed: Kind::PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL,
                };
                content_model::removed(differ, acc, &path, before, dropped, kinds);
            }
            (None, Some(after)) => {
                // Whether old data can hold the new property depends on what the original
                // did with properties it did not declare.
                let required = is_required(update, name);
                let defaulted = has_default(new, after);
                if is_open(old, original) {
                    let kind = if matches!(new.shape(new.resolve(after)), Shape::Empty) {
                        Kind::PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL
                    } else if required && defaulted {
                        Kind::REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL
                    } else if required {
                        Kind::REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL
                    } else {
                        Kind::OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL
                    };
                    acc.add(kind, &path);
                } else {
                    if let Some(covering) = partial_schema(old, original, name) {
                        content_model::cover(
                            differ,
                            acc,
                            &path,
                            (covering, after),
                            [
                                Kind::PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL,
                                Kind::PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL,
                            ],
                        );
                    }
                    let kind = if required && defaulted {
                        Kind::REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL
                    } else if required {
                        Kind::REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL
                    } else {
                        Kind::OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL
                    };
                    acc.add(kind, &path);
                }
            }
            (None, None) => {}
        }
    }
}

fn dependencies(
    differ: &mut Differ<'_>,
    acc: &mut Acc,
    original: &ObjectRules,
    update: &ObjectRules,
) {
    let lookup = |rules: &ObjectRules, name: &str| {
        rules
            .property_dependencies
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, names)| names.clone())
    };
    let names: Vec<&str> = original
        .property_dependencies
        .iter()
        .chain(&update.property_dependencies)
        .map(|(name, _)| name.as_str())
        .collect();
    let mut seen: Vec<&str> = Vec::new();
    for name in names {
        if seen.contains(&name) {
            continue;
        }
        seen.push(name);
        let path = ["dependencies", name];
        match (lookup(original, name), lookup(update, name)) {
            (Some(_), None) => acc.add(Kind::DEPENDENCY_ARRAY_REMOVED, &path),
            (None, Some(_)) => acc.add(Kind::DEPENDENCY_ARRAY_ADDED, &path),
            (Some(before), Some(after)) => {
                let covers = |all: &[String], some: &[String]| some.iter().all(|n| all.contains(n));
                match (covers(&after, &before), covers(&before, &after)) {
                    (true, true) => {}
                    (true, false) => acc.add(Kind::DEPENDENCY_ARRAY_EXTENDED, &path),
                    (false, true) => acc.add(Kind::DEPENDENCY_ARRAY_NARROWED, &path),
                    (false, false) => acc.add(Kind::DEPENDENCY_ARRAY_CHANGED, &path),
                }
            }
            (None, None) => {}
        }
    }

    let schema = |rules: &ObjectRules, name: &str| {
        rules
            .schema_dependencies
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, id)| *id)
    };
    let mut seen: Vec<&str> = Vec::new();
    for (name, _) in original
        .schema_dependencies
        .iter()
        .chain(&update.schema_dependencies)
    {
        if seen.contains(&name.as_str()) {
            continue;
        }
        seen.push(name);
        let path = ["dependencies", name.as_str()];
        match (schema(original, name), schema(update, name)) {
            (Some(_), None) => acc.add(Kind::DEPENDENCY_SCHEMA_REMOVED, &path),
            (None, Some(_)) => acc.add(Kind::DEPENDENCY_SCHEMA_ADDED, &path),
            (Some(before), Some(after)) => {
                let outcome = differ.compare(before, after);
                acc.absorb(&path, outcome);
            }
            (None, None) => {}
        }
    }
}

fn additional(
    differ: &mut Differ<'_>,
    acc: &mut Acc,
    original: &ObjectRules,
    update: &ObjectRules,
) {
    use Kind::*;
    compare_additional(
        differ,
        acc,
        "additionalProperties",
        (original.permits_additional, original.additional),
        (update.permits_additional, update.additional),
        [
            ADDITIONAL_PROPERTIES_ADDED,
            ADDITIONAL_PROPERTIES_REMOVED,
            ADDITIONAL_PROPERTIES_EXTENDED,
            ADDITIONAL_PROPERTIES_NARROWED,
        ],
    );
}

/// `unevaluatedProperties`: `false` closes the model, a schema makes it partially open.
fn unevaluated(
    differ: &mut Differ<'_>,
    acc: &mut Acc,
    original: Option<NodeId>,
    update: Option<NodeId>,
) {
    use Kind::*;
    let kinds = [
        UNEVALUATED_PROPERTIES_ADDED,
        UNEVALUATED_PROPERTIES_REMOVED,
        UNEVALUATED_PROPERTIES_EXTENDED,
        UNEVALUATED_PROPERTIES_NARROWED,
    ];
    compare_unevaluated(
        differ,
        acc,
        "unevaluatedProperties",
        original,
        update,
        kinds,
    );
}
