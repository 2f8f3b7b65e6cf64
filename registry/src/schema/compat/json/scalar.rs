//! Differences in string, number, `enum` and `const` schemas.

use serde_json::Value;

use super::differ::Acc;
use super::kinds::Kind;
use super::model::{NumberRules, StringRules};

/// The four kinds a numeric limit can change by: added, removed, increased, decreased.
pub(super) type LimitKinds = [Kind; 4];

/// Records how a numeric keyword changed between `original` and `update`.
pub(super) fn limit<T: PartialOrd + Copy>(
    acc: &mut Acc,
    keyword: &str,
    original: Option<T>,
    update: Option<T>,
    [added, removed, increased, decreased]: LimitKinds,
) {
    match (original, update) {
        (None, Some(_)) => acc.add(added, &[keyword]),
        (Some(_), None) => acc.add(removed, &[keyword]),
        (Some(a), Some(b)) if a < b => acc.add(increased, &[keyword]),
        (Some(a), Some(b)) if a > b => acc.add(decreased, &[keyword]),
        _ => {}
    }
}

pub(super) fn strings(acc: &mut Acc, original: &StringRules, update: &StringRules) {
    use Kind::*;
    limit(
        acc,
        "maxLength",
        original.max_length,
        update.max_length,
        [
            MAX_LENGTH_ADDED,
            MAX_LENGTH_REMOVED,
            MAX_LENGTH_INCREASED,
            MAX_LENGTH_DECREASED,
        ],
    );
    limit(
        acc,
        "minLength",
        original.min_length,
        update.min_length,
        [
            MIN_LENGTH_ADDED,
            MIN_LENGTH_REMOVED,
            MIN_LENGTH_INCREASED,
            MIN_LENGTH_DECREASED,
        ],
    );
    match (&original.pattern, &update.pattern) {
        (None, Some(_)) => acc.add(PATTERN_ADDED, &["pattern"]),
        (Some(_), None) => acc.add(PATTERN_REMOVED, &["pattern"]),
        (Some(a), Some(b)) if a != b => acc.add(PATTERN_CHANGED, &["pattern"]),
        _ => {}
    }
}

pub(super) fn numbers(acc: &mut Acc, original: &NumberRules, update: &NumberRules) {
    use Kind::*;
    limit(
        acc,
        "maximum",
        original.maximum,
        update.maximum,
        [
            MAXIMUM_ADDED,
            MAXIMUM_REMOVED,
            MAXIMUM_INCREASED,
            MAXIMUM_DECREASED,
        ],
    );
    limit(
        acc,
        "minimum",
        original.minimum,
        update.minimum,
        [
            MINIMUM_ADDED,
            MINIMUM_REMOVED,
            MINIMUM_INCREASED,
            MINIMUM_DECREASED,
        ],
    );
    limit(
        acc,
        "exclusiveMaximum",
        original.exclusive_maximum,
        update.exclusive_maximum,
        [
            EXCLUSIVE_MAXIMUM_ADDED,
            EXCLUSIVE_MAXIMUM_REMOVED,
            EXCLUSIVE_MAXIMUM_INCREASED,
            EXCLUSIVE_MAXIMUM_DECREASED,
        ],
    );
    limit(
        acc,
        "exclusiveMinimum",
        original.exclusive_minimum,
        update.exclusive_minimum,
        [
            EXCLUSIVE_MINIMUM_ADDED,
            EXCLUSIVE_MINIMUM_REMOVED,
            EXCLUSIVE_MINIMUM_INCREASED,
            EXCLUSIVE_MINIMUM_DECREASED,
        ],
    );
    match (original.multiple_of, update.multiple_of) {
        (None, Some(_)) => acc.add(MULTIPLE_OF_ADDED, &["multipleOf"]),
        (Some(_), None) => acc.add(MULTIPLE_OF_REMOVED, &["multipleOf"]),
        (Some(a), Some(b)) if a != b => {
            // A new divisor that the old one is a multiple of accepts every old value.
            let kind = if is_multiple(b, a) {
                MULTIPLE_OF_EXPANDED
            } else if is_multiple(a, b) {
                MULTIPLE_OF_REDUCED
            } else {
                MULTIPLE_OF_CHANGED
            };
            acc.add(kind, &["multipleOf"]);
        }
        _ => {}
    }
    match (original.integer, update.integer) {
        (true, false) => acc.add(TYPE_EXTENDED, &[]),
        (false, true) => acc.add(TYPE_NARROWED, &[]),
        _ => {}
    }
}

/// Whether `value` is a whole multiple of `divisor`.
fn is_multiple(value: f64, divisor: f64) -> bool {
    if divisor == 0.0 {
        return false;
    }
    let ratio = value / divisor;
    ratio.is_finite() && (ratio - ratio.round()).abs() < 1e-9
}

pub(super) fn enums(acc: &mut Acc, original: &[Value], update: &[Value]) {
    let covers = |all: &[Value], some: &[Value]| some.iter().all(|value| all.contains(value));
    let (widened, narrowed) = (covers(update, original), covers(original, update));
    let kind = match (widened, narrowed) {
        (true, true) => return,
        (true, false) => Kind::ENUM_ARRAY_EXTENDED,
        (false, true) => Kind::ENUM_ARRAY_NARROWED,
        (false, false) => Kind::ENUM_ARRAY_CHANGED,
    };
    acc.add(kind, &["enum"]);
}

pub(super) fn consts(acc: &mut Acc, original: &Value, update: &Value) {
    if original != update {
        acc.add(Kind::ENUM_ARRAY_CHANGED, &["const"]);
    }
}
