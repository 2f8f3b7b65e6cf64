//! JSON Schema compatibility with Confluent Schema Registry's difference model.
//!
//! Both documents are lowered into typed nodes the way Confluent's loader sees them
//! ([`model`]), then walked side by side ([`differ`]) with one module per kind of schema
//! ([`object`], [`array`], [`scalar`], [`combined`]) and the content-model rules objects and
//! arrays share ([`content_model`]). Every difference is reported, with Confluent's name for
//! it ([`kinds`]); the incompatible ones become [`Violation`]s. A combination of titled
//! members (Herald's export: one member per event type) that no longer lines up is reported
//! through the differences inside the member of the same title, naming the title.

mod array;
mod combined;
mod content_model;
mod differ;
mod explain;
mod kinds;
mod model;
mod object;
mod scalar;

use crate::schema::{JsonSchema, Parsed, Schema};

use super::{Difference, Violation};
use differ::{Differ, Found};
use model::Model;

/// Every difference between `original` and `update`, paths relative to their roots.
fn differences(original: &JsonSchema, update: &JsonSchema) -> Vec<Found> {
    let original = Model::build(&original.value, original.draft());
    let update = Model::build(&update.value, update.draft());
    let mut differ = Differ::new(&original, &update);
    differ.run(original.root(), update.root())
}

/// What stops `reader` from reading data that was valid under `writer`: the incompatible
/// differences of the diff from `writer` (original) to `reader` (update).
///
/// A combination of titled members (Herald's export: one member per event type) that no
/// longer lines up is reported through its causes: the differences inside each member
/// against the member of the same title, naming the title.
pub(crate) fn can_read(reader: &JsonSchema, writer: &JsonSchema) -> Vec<Violation> {
    let mut out = Vec::new();
    for found in differences(writer, reader) {
        if !found.kind.is_compatible() {
            violations(&mut out, found, None);
        }
    }
    out
}

/// Appends the violations for `found`: itself, or its causes when it has some. `member` is
/// the title of the member and the pointer to it that `found` lies in.
fn violations(out: &mut Vec<Violation>, found: Found, member: Option<(&str, &str)>) {
    if !found.causes.is_empty() {
        for cause in found.causes {
            let mut inner = cause.found;
            let mut path = found.path.clone();
            let member_path: Vec<String> = path
                .iter()
                .chain(inner.path.iter().take(2))
                .cloned()
                .collect();
            path.append(&mut inner.path);
            inner.path = path;
            let member_pointer = differ::pointer(&member_path);
            violations(out, inner, Some((&cause.title, &member_pointer)));
        }
        return;
    }
    let location = found.pointer();
    let (mut message, hint) = explain::explain(found.kind, &location);
    if let Some((title, pointer)) = member {
        let property = match found.path.as_slice() {
            [.., keyword, name] if keyword == "properties" || keyword == "required" => {
                format!(", property `{name}`")
            }
            _ => String::new(),
        };
        message = format!("in member `{title}` ({pointer}){property}: {message}");
    }
    out.push(Violation::new(found.kind.as_str(), location, message, hint));
}

/// Every difference Confluent's JSON Schema diff reports between `original` and `update`,
/// compatible ones included, in the order they were found. Empty when either schema is not
/// a JSON Schema.
///
/// ```
/// use herald_registry::schema::{json_differences, Schema, SchemaType};
///
/// let v1 = Schema::parse(SchemaType::Json, r#"{"type":"string","maxLength":10}"#)?;
/// let v2 = Schema::parse(SchemaType::Json, r#"{"type":"string","maxLength":8}"#)?;
/// let found = json_differences(&v1, &v2);
/// assert_eq!(found[0].to_string(), "MAX_LENGTH_DECREASED #/maxLength");
/// assert!(!found[0].compatible);
/// # Ok::<(), herald_registry::schema::SchemaError>(())
/// ```
pub fn json_differences(original: &Schema, update: &Schema) -> Vec<Difference> {
    let (Parsed::Json(original), Parsed::Json(update)) = (original.parsed(), update.parsed())
    else {
        return Vec::new();
    };
    differences(original, update)
        .into_iter()
        .map(|found| Difference {
            kind: found.kind.as_str().to_owned(),
            location: found.pointer(),
            compatible: found.kind.is_compatible(),
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::schema::{CompatibilityLevel, SchemaType, check};

    fn schema(text: &str) -> Schema {
        Schema::parse(SchemaType::Json, text).unwrap()
    }

    /// The differences from `original` to `update`, rendered `KIND #/pointer`, sorted.
    fn diff(original: &str, update: &str) -> Vec<String> {
        let mut found: Vec<String> = json_differences(&schema(original), &schema(update))
            .iter()
            .map(ToString::to_string)
            .collect();
        found.sort();
        found
    }

    fn backward_ok(original: &str, update: &str) -> bool {
        check(
            CompatibilityLevel::Backward,
            &schema(update),
            &[(1, &schema(original))],
        )
        .is_compatible
    }

    #[test]
    fn property_added_depends_on_the_original_content_model() {
        let open = r#"{"type":"object","properties":{"a":{"type":"string"}}}"#;
        let open_added =
            r#"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}}}"#;
        assert_eq!(
            diff(open, open_added),
            ["OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL #/properties/b"]
        );
        assert!(!backward_ok(open, open_added));

        let closed = r#"{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}"#;
        let closed_added = r#"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},"additionalProperties":false}"#;
        assert_eq!(
            diff(closed, closed_added),
            ["OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL #/properties/b"]
        );
        assert!(backward_ok(closed, closed_added));
    }

    #[test]
    fn property_removed_depends_on_the_update_content_model() {
        let two = r#"{"properties":{"a":{"type":"string"},"b":{"type":"string"}},"additionalProperties":false}"#;
        let closed_one = r#"{"properties":{"a":{"type":"string"}},"additionalProperties":false}"#;
        assert_eq!(
            diff(two, closed_one),
            ["PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL #/properties/b"]
        );
        let covered = r#"{"properties":{"a":{"type":"string"}},"patternProperties":{"^b":{"type":"string"}},"additionalProperties":false}"#;
        assert_eq!(
            diff(two, covered),
            ["PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL #/properties/b"]
        );
        let not_covered =
            r#"{"properties":{"a":{"type":"string"}},"additionalProperties":{"type":"integer"}}"#;
        assert_eq!(
            diff(two, not_covered),
            [
                "ADDITIONAL_PROPERTIES_ADDED #/additionalProperties",
                "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL #/properties/b",
                "TYPE_CHANGED #/properties/b",
            ]
        );
        assert!(!backward_ok(two, not_covered));
    }

    #[test]
    fn new_required_property_needs_a_default() {
        let before = r#"{"properties":{"a":{"type":"string"}}}"#;
        let required = r#"{"properties":{"a":{"type":"string"}},"required":["a"]}"#;
        let defaulted = r#"{"properties":{"a":{"type":"string","default":"x"}},"required":["a"]}"#;
        assert_eq!(
            diff(before, required),
            ["REQUIRED_ATTRIBUTE_ADDED #/required/a"]
        );
        assert!(!backward_ok(before, required));
        assert_eq!(
            diff(before, defaulted),
            [
                "DEFAULT_CHANGED #/properties/a",
                "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED #/required/a"
            ]
        );
        assert!(backward_ok(before, defaulted));
    }

    #[test]
    fn type_narrowing_and_widening() {
        assert_eq!(
            diff(r#"{"type":"number"}"#, r#"{"type":"integer"}"#),
            ["TYPE_NARROWED #/"]
        );
        assert_eq!(
            diff(r#"{"type":"integer"}"#, r#"{"type":"number"}"#),
            ["TYPE_EXTENDED #/"]
        );
        // A `type` array is a union: adding a member widens, dropping one changes the type.
        assert_eq!(
            diff(r#"{"type":"string"}"#, r#"{"type":["string","null"]}"#),
            ["SUM_TYPE_EXTENDED #/"]
        );
        assert!(!backward_ok(
            r#"{"type":["string","null"]}"#,
            r#"{"type":"string"}"#
        ));
        assert_eq!(
            diff(r#"{"type":"string"}"#, r#"{"type":"boolean"}"#),
            ["TYPE_CHANGED #/"]
        );
    }

    #[test]
    fn boolean_schemas() {
        assert_eq!(diff("true", "false"), ["TYPE_CHANGED #/"]);
        assert!(diff("false", r#"{"type":"string"}"#).is_empty());
        assert!(diff(r#"{"type":"string"}"#, "true").is_empty());
    }

    #[test]
    fn enums_and_const() {
        let red = r#"{"enum":["red"]}"#;
        let red_blue = r#"{"enum":["red","blue"]}"#;
        assert_eq!(diff(red, red_blue), ["ENUM_ARRAY_EXTENDED #/enum"]);
        assert_eq!(diff(red_blue, red), ["ENUM_ARRAY_NARROWED #/enum"]);
        assert!(backward_ok(red, red_blue));
        assert!(!backward_ok(red_blue, red));
        assert_eq!(
            diff(r#"{"const":1}"#, r#"{"const":2}"#),
            ["ENUM_ARRAY_CHANGED #/const"]
        );
    }

    #[test]
    fn limits() {
        assert_eq!(
            diff(
                r#"{"type":"array","maxItems":3}"#,
                r#"{"type":"array","maxItems":2}"#
            ),
            ["MAX_ITEMS_DECREASED #/maxItems"]
        );
        assert_eq!(
            diff(
                r#"{"type":"string"}"#,
                r#"{"type":"string","pattern":"^a"}"#
            ),
            ["PATTERN_ADDED #/pattern"]
        );
        assert_eq!(
            diff(
                r#"{"type":"number","multipleOf":0.5}"#,
                r#"{"type":"number","multipleOf":0.25}"#
            ),
            ["MULTIPLE_OF_REDUCED #/multipleOf"]
        );
        assert_eq!(
            diff(r#"{"minProperties":1}"#, r#"{"minProperties":3}"#),
            ["MIN_PROPERTIES_INCREASED #/minProperties"]
        );
        assert_eq!(
            diff(
                r#"{"type":"number","exclusiveMaximum":5}"#,
                r#"{"type":"number","exclusiveMaximum":4}"#
            ),
            ["EXCLUSIVE_MAXIMUM_DECREASED #/exclusiveMaximum"]
        );
    }

    #[test]
    fn combined_members_are_matched_not_zipped() {
        let before = r#"{"anyOf":[{"type":"string","maxLength":5},{"type":"integer"}]}"#;
        let reordered = r#"{"anyOf":[{"type":"integer"},{"type":"string","maxLength":9}]}"#;
        assert_eq!(
            diff(before, reordered),
            ["MAX_LENGTH_INCREASED #/anyOf/0/maxLength"]
        );
        let fewer = r#"{"anyOf":[{"type":"integer"}]}"#;
        assert_eq!(diff(before, fewer), ["SUM_TYPE_NARROWED #/"]);
        assert!(!backward_ok(before, fewer));
        assert_eq!(
            diff(
                r#"{"not":{"type":"integer"}}"#,
                r#"{"not":{"type":"number"}}"#
            ),
            ["NOT_TYPE_EXTENDED #/not"]
        );
    }

    #[test]
    fn dependencies_and_tuples() {
        assert_eq!(
            diff(
                r#"{"dependencies":{"a":["b"]}}"#,
                r#"{"dependencies":{"a":["b","c"]}}"#
            ),
            ["DEPENDENCY_ARRAY_EXTENDED #/dependencies/a"]
        );
        let draft2020 = r#""$schema":"https://json-schema.org/draft/2020-12/schema""#;
        assert_eq!(
            diff(
                &format!(r#"{{{draft2020},"dependentRequired":{{"a":["b","c"]}}}}"#),
                &format!(r#"{{{draft2020},"dependentRequired":{{"a":["b"]}}}}"#)
            ),
            ["DEPENDENCY_ARRAY_NARROWED #/dependencies/a"]
        );
        assert_eq!(
            diff(
                &format!(r#"{{{draft2020},"prefixItems":[{{"type":"string"}}],"items":false}}"#),
                &format!(r#"{{{draft2020},"prefixItems":[{{"type":"integer"}}],"items":false}}"#)
            ),
            ["TYPE_CHANGED #/items/0"]
        );
    }

    const TREE: &str = r##"{
        "definitions": {
            "node": {
                "type": "object",
                "properties": {
                    "value": {"type": "VALUE"},
                    "children": {"type": "array", "items": {"$ref": "#/definitions/node"}},
                    "parent": {"$ref": "#/definitions/parent"}
                }
            },
            "parent": {"oneOf": [{"type": "null"}, {"$ref": "#/definitions/node"}]}
        },
        "$ref": "#/definitions/node"
    }"##;

    #[test]
    fn ref_cycles_terminate_and_still_find_deep_changes() {
        let strings = TREE.replace("VALUE", "string");
        assert!(diff(&strings, &strings).is_empty());
        let numbers = TREE.replace("VALUE", "number");
        // The change also breaks the recursive member of the `parent` union.
        assert_eq!(
            diff(&strings, &numbers),
            [
                "COMBINED_TYPE_SUBSCHEMAS_CHANGED #/properties/parent",
                "TYPE_CHANGED #/properties/value"
            ]
        );
        assert!(!backward_ok(&strings, &numbers));
        // A reference to the whole document terminates; a reference chain that never
        // reaches a schema is refused when parsed.
        let whole = r##"{"type":"object","properties":{"self":{"$ref":"#"}}}"##;
        assert!(diff(whole, whole).is_empty());
        let looping =
            r##"{"definitions":{"a":{"$ref":"#/definitions/a"}},"$ref":"#/definitions/a"}"##;
        assert!(Schema::parse(SchemaType::Json, looping).is_err());
    }

    #[test]
    fn recursive_unions_stay_cheap() {
        // Twelve mutually recursive members in every union: without memoization the pairwise
        // matching would explode.
        let names: Vec<String> = (0..12).map(|i| format!("T{i}")).collect();
        let union: Vec<String> = names
            .iter()
            .map(|name| format!(r##"{{"$ref":"#/definitions/{name}"}}"##))
            .collect();
        let union = format!(r#"{{"oneOf":[{}]}}"#, union.join(","));
        let build = |id_type: &str| {
            let definitions: Vec<String> = names
                .iter()
                .map(|name| {
                    format!(
                        r#""{name}":{{"type":"object","properties":{{"id":{{"type":"{id_type}"}},"next":{union}}}}}"#
                    )
                })
                .collect();
            format!(
                r#"{{"definitions":{{{}}},"type":"object","properties":{{"root":{union}}}}}"#,
                definitions.join(",")
            )
        };
        let strings = build("string");
        assert!(diff(&strings, &strings).is_empty());
        assert!(!backward_ok(&strings, &build("boolean")));
    }

    #[test]
    fn long_reference_chains_stay_within_the_stack() {
        // Each definition nests the next one level deeper: far more levels than the JSON
        // nesting limit allows inline, reached only through `$ref`.
        let build = |last: &str| {
            let definitions: Vec<String> = (0..400)
                .map(|i| {
                    format!(
                        r##""d{i}":{{"type":"object","properties":{{"next":{{"$ref":"#/definitions/d{}"}}}}}}"##,
                        i + 1
                    )
                })
                .collect();
            format!(
                r##"{{"definitions":{{{},"d400":{{"type":"{last}"}}}},"$ref":"#/definitions/d0"}}"##,
                definitions.join(",")
            )
        };
        let strings = build("string");
        assert!(diff(&strings, &strings).is_empty());
        // The change sits deeper than the comparison descends, so it is not reported;
        // what matters here is that the walk stops without overflowing the stack.
        let _ = diff(&strings, &build("number"));
    }

    #[test]
    fn unresolved_references_compare_by_text() {
        let a = r#"{"$ref":"https://example.com/a.json"}"#;
        let b = r#"{"$ref":"https://example.com/b.json"}"#;
        assert!(diff(a, a).is_empty());
        assert_eq!(diff(a, b), ["TYPE_CHANGED #/"]);
    }

    #[test]
    fn violations_carry_pointer_message_and_hint() {
        let before = r#"{"properties":{"id":{"type":"string"}}}"#;
        let after =
            r#"{"properties":{"id":{"type":"string"},"n":{"type":"integer"}},"required":["n"]}"#;
        let report = check(
            CompatibilityLevel::Backward,
            &schema(after),
            &[(3, &schema(before))],
        );
        assert_eq!(report.violations.len(), 1);
        let violation = &report.violations[0];
        assert_eq!(
            violation.kind,
            "REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"
        );
        assert_eq!(violation.location, "#/properties/n");
        assert_eq!(violation.version, Some(3));
        assert!(violation.message.contains("#/properties/n"));
        assert!(!violation.hint.is_empty());
        // FORWARD reads the new data with the old schema: removing `n` from an open
        // model is fine.
        assert!(
            check(
                CompatibilityLevel::Forward,
                &schema(after),
                &[(3, &schema(before))]
            )
            .is_compatible
        );
    }

    #[test]
    fn titled_members_are_explained_by_the_member_of_the_same_title() {
        let closed = r#"{"title":"a.closed","type":"object","properties":{"id":{"type":"string"},"reason":{"type":"string"}}}"#;
        let opened =
            r#"{"title":"a.opened","type":"object","properties":{"id":{"type":"string"}}}"#;
        let opened_with_currency = r#"{"title":"a.opened","type":"object","properties":{"id":{"type":"string"},"currency":{"type":"string"}},"required":["currency"]}"#;
        let before = format!(r#"{{"anyOf":[{opened},{closed}]}}"#);
        let after = format!(r#"{{"anyOf":[{opened_with_currency},{closed}]}}"#);
        // Confluent's differences are unchanged...
        assert!(diff(&before, &after).contains(&"COMBINED_TYPE_SUBSCHEMAS_CHANGED #/".to_owned()));
        // ...but the violation is the member's own, at its path, naming its title.
        let report = check(
            CompatibilityLevel::Backward,
            &schema(&after),
            &[(1, &schema(&before))],
        );
        let found: Vec<(&str, &str)> = report
            .violations
            .iter()
            .map(|v| (v.kind.as_str(), v.location.as_str()))
            .collect();
        assert_eq!(
            found,
            [(
                "REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
                "#/anyOf/0/properties/currency"
            )]
        );
        assert!(
            report.violations[0].message.contains("`a.opened`"),
            "{}",
            report.violations[0].message
        );
        // Untitled members keep Confluent's single violation at the combination.
        let plain = |text: &str| {
            text.replace(r#""title":"a.opened","#, "")
                .replace(r#""title":"a.closed","#, "")
        };
        let report = check(
            CompatibilityLevel::Backward,
            &schema(&plain(&after)),
            &[(1, &schema(&plain(&before)))],
        );
        assert_eq!(report.violations.len(), 1);
        assert_eq!(report.violations[0].location, "#/");
    }

    #[test]
    fn pointers_escape_special_characters() {
        let before = r#"{"properties":{"a/b~c":{"type":"string"}}}"#;
        let after = r#"{"properties":{"a/b~c":{"type":"integer"}}}"#;
        assert_eq!(diff(before, after), ["TYPE_CHANGED #/properties/a~1b~0c"]);
    }
}
