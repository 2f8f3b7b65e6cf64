//! One-sentence messages and hints for the incompatible kinds, for [`Violation`]s.
//!
//! [`Violation`]: crate::schema::Violation

use super::differ::Found;
use super::kinds::Kind;

/// What went wrong at the location of `found` and how to make the change compatible.
pub(super) fn explain(found: &Found) -> (String, String) {
    use Kind::*;
    let location = found.location();
    let detail = found
        .detail
        .as_deref()
        .map(|detail| format!(" ({detail})"))
        .unwrap_or_default();
    let (message, hint): (String, &str) = match found.kind {
        PACKAGE_CHANGED => (
            format!("the package changed{detail}, which renames every message type"),
            "keep the package; put types of another package in a new file or subject",
        ),
        MESSAGE_REMOVED => (
            format!("the message type at {location} was removed"),
            "keep the message type, even if nothing uses it any more",
        ),
        FIELD_KIND_CHANGED => (
            format!(
                "field {location} changed between a scalar, a message and a map{detail}, which are encoded differently"
            ),
            "keep the field's type and add a new field with a new number for the new type",
        ),
        FIELD_SCALAR_KIND_CHANGED => (
            format!(
                "field {location} changed to a scalar type that is not wire-compatible{detail}"
            ),
            "keep the type or change it only within its group (int32/int64/uint32/uint64/bool/enum, sint32/sint64, string/bytes, fixed32/sfixed32, fixed64/sfixed64); otherwise add a new field",
        ),
        FIELD_NAMED_TYPE_CHANGED => (
            format!("message field {location} changed its message type{detail}"),
            "keep the field's message type and change that type only compatibly; otherwise add a new field",
        ),
        FIELD_NUMERIC_LABEL_CHANGED => (
            format!("the label of numeric field {location} changed{detail}"),
            "keep the label; add a new field for a value with another label",
        ),
        REQUIRED_FIELD_ADDED => (
            format!(
                "required field {location} was added, so data written without it fails to parse"
            ),
            "add the field as optional",
        ),
        REQUIRED_FIELD_REMOVED => (
            format!(
                "required field {location} was removed, so readers that still require it reject new data"
            ),
            "keep the required field",
        ),
        ONEOF_FIELD_REMOVED => (
            format!(
                "field {location} was removed from its oneof, so data that set it loses the oneof's value"
            ),
            "keep the field in the oneof",
        ),
        MULTIPLE_FIELDS_MOVED_TO_ONEOF => (
            format!(
                "several independent fields were moved into oneof {location}, so data that set more than one of them keeps only one"
            ),
            "leave existing fields outside the oneof; add new fields to it instead",
        ),
        FIELD_MOVED_TO_EXISTING_ONEOF => (
            format!("oneof {location} now joins fields that were not mutually exclusive before"),
            "keep each field in its original oneof; add new fields instead of moving existing ones",
        ),
        MESSAGE_ADDED
        | MESSAGE_MOVED
        | ENUM_ADDED
        | ENUM_REMOVED
        | ENUM_CONST_ADDED
        | ENUM_CONST_CHANGED
        | ENUM_CONST_REMOVED
        | FIELD_ADDED
        | FIELD_REMOVED
        | FIELD_NAME_CHANGED
        | FIELD_STRING_OR_BYTES_LABEL_CHANGED
        | ONEOF_ADDED
        | ONEOF_REMOVED
        | ONEOF_FIELD_ADDED
        | ONEOF_FIELD_MOVED_TO_TOP_LEVEL => {
            (format!("{} at {location}{detail}", found.kind.as_str()), "")
        }
    };
    (message, hint.to_owned())
}
