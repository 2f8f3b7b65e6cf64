//! One-sentence messages and hints for the incompatible kinds, for [`Violation`]s.
//!
//! [`Violation`]: crate::schema::Violation

use super::kinds::Kind;

/// What went wrong at `location` and how to make the change compatible.
pub(super) fn explain(kind: Kind, location: &str) -> (String, String) {
    use Kind::*;
    let (message, hint): (String, &str) = match kind {
        TYPE_CHANGED => (
            format!("the type at {location} changed, so old values no longer match"),
            "keep the old type, or accept both with `anyOf` / a `type` array that includes the old type",
        ),
        TYPE_NARROWED => (
            format!("the type at {location} was narrowed from number to integer"),
            "keep `\"type\": \"number\"` so old fractional values still validate",
        ),
        SCHEMA_ADDED => (
            format!("a schema was added at {location} where anything was accepted before"),
            "leave the keyword out, or give it a schema that accepts every old value (e.g. `{}`)",
        ),
        MAX_LENGTH_ADDED | MAX_LENGTH_DECREASED | MIN_LENGTH_ADDED | MIN_LENGTH_INCREASED => (
            format!("the string length limit at {location} became stricter"),
            "keep the old length limit or relax it (raise `maxLength`, lower `minLength`)",
        ),
        PATTERN_ADDED | PATTERN_CHANGED => (
            format!("the pattern at {location} is new or different, so old strings may not match"),
            "keep the old pattern, or drop the pattern",
        ),
        MAXIMUM_ADDED
        | MAXIMUM_DECREASED
        | MINIMUM_ADDED
        | MINIMUM_INCREASED
        | EXCLUSIVE_MAXIMUM_ADDED
        | EXCLUSIVE_MAXIMUM_DECREASED
        | EXCLUSIVE_MINIMUM_ADDED
        | EXCLUSIVE_MINIMUM_INCREASED => (
            format!("the numeric bound at {location} became stricter"),
            "keep the old bound or relax it (raise maxima, lower minima)",
        ),
        MULTIPLE_OF_ADDED | MULTIPLE_OF_EXPANDED | MULTIPLE_OF_CHANGED => (
            format!("`multipleOf` at {location} now rejects values the old schema accepted"),
            "use a divisor of the old `multipleOf`, or drop it",
        ),
        REQUIRED_ATTRIBUTE_ADDED => (
            format!("the property at {location} became required"),
            "give the property a `default` or keep it optional",
        ),
        MAX_PROPERTIES_ADDED
        | MAX_PROPERTIES_DECREASED
        | MIN_PROPERTIES_ADDED
        | MIN_PROPERTIES_INCREASED => (
            format!("the property-count limit at {location} became stricter"),
            "keep the old limit or relax it",
        ),
        ADDITIONAL_PROPERTIES_REMOVED | ADDITIONAL_PROPERTIES_NARROWED => (
            format!("{location} now restricts properties the old schema left open"),
            "keep `additionalProperties` open, or declare every property old data may carry",
        ),
        DEPENDENCY_ARRAY_ADDED
        | DEPENDENCY_ARRAY_EXTENDED
        | DEPENDENCY_ARRAY_CHANGED
        | DEPENDENCY_SCHEMA_ADDED => (
            format!("the dependency at {location} requires more than before"),
            "keep the old dependencies, or only remove entries from them",
        ),
        REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL => (
            format!(
                "the required property at {location} was added: old data may lack it, or hold it with any value under the open content model"
            ),
            "make the new property optional with a schema that accepts any value, or close the old schema first (`additionalProperties: false`) and give it a `default`",
        ),
        REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL
        | OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL => (
            format!(
                "the property at {location} was added to an open content model, where old data may already hold it with any value"
            ),
            "close the old schema first (`additionalProperties: false`) or give the new property a schema that accepts any value",
        ),
        REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL => (
            format!("the required property at {location} is missing from old data"),
            "give the new required property a `default` or make it optional",
        ),
        PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL => (
            format!(
                "the property at {location} was removed while extra properties are forbidden, so old data holding it is rejected"
            ),
            "keep the property, or open `additionalProperties` to a schema that accepts its old values",
        ),
        PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL => (
            format!(
                "the property at {location} was removed and its old values do not match the schema for extra properties"
            ),
            "keep the property, or widen `additionalProperties`/`patternProperties` to accept its old values",
        ),
        PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL => (
            format!(
                "the property at {location} was added with a schema stricter than the one old extra properties matched"
            ),
            "keep `additionalProperties` open or add the property with a schema that accepts the old values",
        ),
        UNEVALUATED_PROPERTIES_REMOVED | UNEVALUATED_PROPERTIES_NARROWED => (
            format!("{location} now restricts unevaluated properties the old schema accepted"),
            "keep `unevaluatedProperties` as it was",
        ),
        MAX_ITEMS_ADDED
        | MAX_ITEMS_DECREASED
        | MIN_ITEMS_ADDED
        | MIN_ITEMS_INCREASED
        | MAX_CONTAINS_ADDED
        | MAX_CONTAINS_DECREASED
        | MIN_CONTAINS_ADDED
        | MIN_CONTAINS_INCREASED => (
            format!("the item-count limit at {location} became stricter"),
            "keep the old limit or relax it",
        ),
        UNIQUE_ITEMS_ADDED => (
            format!("{location} now requires unique items"),
            "drop `uniqueItems: true`",
        ),
        ADDITIONAL_ITEMS_REMOVED | ADDITIONAL_ITEMS_NARROWED => (
            format!("{location} now restricts items the old schema left open"),
            "keep additional items open, or list every item old data may carry",
        ),
        UNEVALUATED_ITEMS_REMOVED | UNEVALUATED_ITEMS_NARROWED => (
            format!("{location} now restricts unevaluated items the old schema accepted"),
            "keep `unevaluatedItems` as it was",
        ),
        ITEM_ADDED_TO_OPEN_CONTENT_MODEL => (
            format!("the tuple item at {location} was added where old arrays may hold any value"),
            "give the new item a schema that accepts any value, or close the old tuple first",
        ),
        ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL => (
            format!("the tuple item at {location} was removed while extra items are forbidden"),
            "keep the item, or allow additional items that accept its old values",
        ),
        ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL => (
            format!(
                "the tuple item at {location} was removed and its old values do not match the schema for extra items"
            ),
            "keep the item, or widen the schema for additional items",
        ),
        ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL => (
            format!(
                "the tuple item at {location} was added with a schema stricter than the one old extra items matched"
            ),
            "add the item with a schema that accepts what additional items accepted before",
        ),
        ENUM_ARRAY_NARROWED | ENUM_ARRAY_CHANGED => (
            format!("the allowed values at {location} no longer include every old value"),
            "only add values to `enum`; never remove or change them",
        ),
        COMBINED_TYPE_CHANGED => (
            format!(
                "the combination at {location} changed its criterion in a way that rejects old data"
            ),
            "keep the old `allOf`/`anyOf`/`oneOf`, or move to `anyOf`",
        ),
        PRODUCT_TYPE_EXTENDED => (
            format!("the `allOf` at {location} gained a member, which old data may not satisfy"),
            "do not add members to an `allOf`; add optional properties instead",
        ),
        SUM_TYPE_NARROWED => (
            format!("the `anyOf`/`oneOf` at {location} lost a member that old data may match"),
            "keep every old alternative",
        ),
        COMBINED_TYPE_SUBSCHEMAS_CHANGED => (
            format!(
                "the members of the combination at {location} no longer line up with the old ones"
            ),
            "keep each old member, changing it only in compatible ways",
        ),
        NOT_TYPE_EXTENDED => (
            format!("the `not` at {location} now excludes values the old schema accepted"),
            "only make the schema inside `not` stricter",
        ),
        other => (
            format!("{} at {location}", other.as_str()),
            "revert this change",
        ),
    };
    (message, hint.to_owned())
}
