//! Field defaults as both schema languages write them: the Rust type's own default, or a
//! literal of a scalar type.

use serde_json::{Number, Value};

use super::CodegenError;
use super::model::FieldDefault;

/// Whether `value`, a field default, is `Default::default()` of the Rust type `ty` (so
/// `#[serde(default)]` reads it).
pub(crate) fn is_natural(value: &Value, ty: &str) -> bool {
    let bytes = ty == "::herald::Bytes" || ty.starts_with("::herald::Decimal<");
    match value {
        Value::Null => ty.starts_with("::core::option::Option<"),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        // Avro writes bytes as a string of code points, JSON Schema as an array of numbers.
        Value::String(s) => s.is_empty() && (ty == "::std::string::String" || bytes),
        Value::Array(a) => a.is_empty() && (ty.starts_with("::std::vec::Vec<") || bytes),
        Value::Object(o) => o.is_empty() && ty.starts_with("::std::collections::BTreeMap<"),
    }
}

/// The Rust expression of `value` as a `ty` when `ty` is a boolean, a number that holds it
/// or a string; `None` otherwise.
pub(crate) fn literal(value: &Value, ty: &str) -> Option<String> {
    Some(match (value, ty) {
        (Value::Bool(b), "bool") => b.to_string(),
        (Value::Number(n), "f32" | "f64") => format!("{:?}", n.as_f64()?),
        (Value::Number(n), _) if fits(n, ty) => n.to_string(),
        (Value::String(s), "::std::string::String") => {
            format!("::std::string::String::from({s:?})")
        }
        _ => return None,
    })
}

/// Whether `n` is an integer in the range of the Rust integer type `ty`.
fn fits(n: &Number, ty: &str) -> bool {
    let Some(n) = n.as_i64().map(i128::from).or(n.as_u64().map(i128::from)) else {
        return false;
    };
    let (min, max) = match ty {
        "i8" => (i8::MIN.into(), i8::MAX.into()),
        "i16" => (i16::MIN.into(), i16::MAX.into()),
        "i32" => (i32::MIN.into(), i32::MAX.into()),
        "i64" => (i64::MIN.into(), i64::MAX.into()),
        "u8" => (0, u8::MAX.into()),
        "u16" => (0, u16::MAX.into()),
        "u32" => (0, u32::MAX.into()),
        "u64" => (0, u64::MAX.into()),
        _ => return false,
    };
    (min..=max).contains(&n)
}

/// The error for a default that has no Rust expression for its field's type.
pub(crate) fn unsupported(value: &Value, ty: &str, location: &str) -> CodegenError {
    CodegenError::unsupported(
        location,
        format!("the default {value} of a `{ty}` field has no Rust expression here"),
    )
}

/// A JSON Schema default, or an Avro default of a type without a form of its own.
pub(crate) fn scalar(
    value: &Value,
    ty: &str,
    location: &str,
) -> Result<FieldDefault, CodegenError> {
    if is_natural(value, ty) {
        return Ok(FieldDefault::Natural);
    }
    literal(value, ty)
        .map(FieldDefault::Expr)
        .ok_or_else(|| unsupported(value, ty, location))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integer_literals_fit_their_type() {
        assert_eq!(literal(&json!(7), "i32").as_deref(), Some("7"));
        assert_eq!(literal(&json!(-1), "u8"), None);
        assert_eq!(literal(&json!(1000), "i8"), None);
        assert_eq!(
            literal(&json!(u64::MAX), "u64").as_deref(),
            Some("18446744073709551615")
        );
        assert_eq!(literal(&json!(u64::MAX), "i64"), None);
        assert_eq!(literal(&json!(1.5), "i64"), None);
        assert_eq!(literal(&json!(1.5), "f64").as_deref(), Some("1.5"));
        assert_eq!(literal(&json!(2), "f32").as_deref(), Some("2.0"));
    }
}
