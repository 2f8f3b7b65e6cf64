//! Avro field defaults as Rust: the type's own default, or an expression.

use serde_json::Value;

use super::{Generator, full_name, qualify};
use crate::codegen::CodegenError;
use crate::codegen::defaults::{is_natural, literal, unsupported};
use crate::codegen::model::FieldDefault;

impl Generator {
    /// A field default as serde sees it: the type's own default, or an expression.
    pub(super) fn field_default(
        &self,
        value: &Value,
        schema: &Value,
        ty: &str,
        namespace: &str,
        location: &str,
    ) -> Result<FieldDefault, CodegenError> {
        // A union's default is of its first branch (Avro requires it).
        if let Some((variant, branch, branch_ty)) =
            self.unions.get(ty).and_then(|branches| branches.first())
        {
            let inner = match self.field_default(value, branch, branch_ty, namespace, location)? {
                FieldDefault::Expr(expr) => expr,
                _ => "::core::default::Default::default()".to_owned(),
            };
            return Ok(FieldDefault::Expr(format!("{ty}::{variant}({inner})")));
        }
        // An empty array is the default of any array-like type (also an optional one).
        if value.as_array().is_some_and(Vec::is_empty) || is_natural(value, ty) {
            return Ok(FieldDefault::Natural);
        }
        let unsupported = || unsupported(value, ty, location);
        let expr = match (value, ty) {
            // Avro writes a bytes default as a string of code points 0-255.
            (Value::String(s), "::herald::Bytes") => {
                format!(
                    "::herald::Bytes(::std::vec![{}])",
                    byte_list(s).ok_or_else(unsupported)?
                )
            }
            (Value::String(s), _) if ty.starts_with("::herald::Decimal<") => format!(
                "{}(::std::vec![{}])",
                ty.replacen("Decimal<", "Decimal::<", 1),
                byte_list(s).ok_or_else(unsupported)?
            ),
            (Value::String(s), _) if self.fixed_size(ty).is_some() => {
                let list = byte_list(s).ok_or_else(unsupported)?;
                if Some(s.chars().count() as u64) != self.fixed_size(ty) {
                    return Err(unsupported());
                }
                format!("{ty}(::herald::Fixed([{list}]))")
            }
            (Value::String(symbol), _) if ty != "::std::string::String" => {
                let full = match schema {
                    Value::String(name) => qualify(name, namespace),
                    Value::Object(o) => full_name(o, namespace).map(|(f, _)| f).unwrap_or_default(),
                    _ => String::new(),
                };
                let variant = self
                    .enums
                    .get(&full)
                    .and_then(|symbols| symbols.iter().find(|(wire, _)| wire == symbol))
                    .map(|(_, rust)| rust.clone())
                    .ok_or_else(unsupported)?;
                format!("{ty}::{variant}")
            }
            _ => literal(value, ty).ok_or_else(unsupported)?,
        };
        Ok(FieldDefault::Expr(expr))
    }
}

/// The bytes of an Avro bytes default (code points 0-255) as a Rust list, or `None`.
fn byte_list(text: &str) -> Option<String> {
    let bytes: Option<Vec<String>> = text
        .chars()
        .map(|c| u8::try_from(u32::from(c)).ok().map(|b| b.to_string()))
        .collect();
    bytes.map(|b| b.join(", "))
}
