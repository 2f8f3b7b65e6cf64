//! Avro unions: an untagged enum with one newtype variant per branch, refused when serde
//! could read one branch's value as another's.

use serde_json::Value;

use super::{Generator, qualify};
use crate::codegen::CodegenError;
use crate::codegen::model::{Branch, Kind, fill, open};
use crate::codegen::names::camel;

/// What a value of a union branch looks like to serde's untagged enum (after
/// `serde_json::Value`, the form Herald's Avro codec reads), in the order serde tries them.
#[derive(Debug, Clone, PartialEq)]
enum Shape {
    Null,
    Boolean,
    /// `int` and `long`: a JSON integer.
    Integer,
    /// `float` and `double`: a JSON number, integer or not (serde reads `7` as `7.0`).
    Number,
    /// `string` and enums.
    Text,
    /// `array`, `bytes` and `fixed`: a JSON array.
    Sequence,
    /// A map: any JSON object.
    Map,
    /// A record: a JSON object with these fields (name, whether it has a default).
    Record(Vec<(String, bool)>),
}

impl Generator {
    pub(super) fn union(
        &mut self,
        branches: &[Value],
        namespace: &str,
        location: &str,
        hint: &str,
    ) -> Result<String, CodegenError> {
        let is_null = |v: &Value| v.as_str() == Some("null");
        let others: Vec<(usize, &Value)> = branches
            .iter()
            .enumerate()
            .filter(|(_, b)| !is_null(b))
            .collect();
        match (branches.len(), others.as_slice()) {
            (2, [(index, inner)]) => {
                let at = format!("{location}/{index}");
                let inner = self.ty(inner, namespace, &at, None, hint)?;
                return Ok(format!("::core::option::Option<{inner}>"));
            }
            (1, [(_, inner)]) => {
                return self.ty(inner, namespace, &format!("{location}/0"), None, hint);
            }
            (_, []) => {
                return Err(CodegenError::unsupported(
                    location,
                    "a union without a branch other than `null` has no Rust field type",
                ));
            }
            _ => {}
        }
        // Several branches: an untagged enum, one newtype variant per branch, and `Null` in
        // its place (or `Option<_>` around the enum when `null` comes first).
        let name = self.fresh_name(if hint.is_empty() { "Union" } else { hint });
        let listed: Vec<String> = branches.iter().map(describe).collect();
        let doc = format!("The Avro union `[{}]`.", listed.join(", "));
        let slot = open(&mut self.items, &name, Some(doc));
        let null_first = branches.first().is_some_and(is_null);
        let mut rust_branches = Vec::with_capacity(branches.len());
        let mut shapes: Vec<(usize, Shape)> = Vec::with_capacity(branches.len());
        let mut described = Vec::with_capacity(branches.len());
        for (index, branch) in branches.iter().enumerate() {
            let at = format!("{location}/{index}");
            let shape = self.shape(branch, namespace, &at)?;
            if let Some((other, _)) = shapes.iter().find(|(_, seen)| clashes(seen, &shape)) {
                return Err(CodegenError::unsupported(
                    &at,
                    format!(
                        "branch {index} ({}) cannot be told apart from branch {other} ({}) once \
                         written as JSON, so serde would read one as the other; only unions whose \
                         branches differ in JSON kind (null, boolean, integer, then floating \
                         number, string or enum, array/bytes/fixed, map, records each with a \
                         field without default that later records lack) have a faithful Rust form",
                        describe(branch),
                        describe(&branches[*other]),
                    ),
                ));
            }
            shapes.push((index, shape));
            if is_null(branch) {
                if !null_first {
                    rust_branches.push(Branch {
                        rust: "Null".to_owned(),
                        ty: None,
                        doc: "The `null` branch.".to_owned(),
                    });
                }
                continue;
            }
            let variant = branch_name(branch);
            let ty = self.ty(branch, namespace, &at, None, &format!("{hint}{variant}"))?;
            let mut rust = variant;
            if rust_branches.iter().any(|b: &Branch| b.rust == rust) {
                rust = format!("{rust}{index}");
            }
            described.push((rust.clone(), branch.clone(), ty.clone()));
            rust_branches.push(Branch {
                rust,
                ty: Some(ty),
                doc: format!("The `{}` branch.", describe(branch)),
            });
        }
        fill(
            &mut self.items,
            slot,
            Kind::Union {
                branches: rust_branches,
            },
        );
        self.unions.insert(name.clone(), described);
        Ok(if null_first {
            format!("::core::option::Option<{name}>")
        } else {
            name
        })
    }

    /// How a branch's values look to serde (see [`Shape`]).
    fn shape(
        &self,
        schema: &Value,
        namespace: &str,
        location: &str,
    ) -> Result<Shape, CodegenError> {
        let kind = match schema {
            Value::String(name) => name.as_str(),
            Value::Object(object) => match object.get("type") {
                Some(Value::String(kind)) => kind.as_str(),
                Some(inner) => return self.shape(inner, namespace, location),
                None => "",
            },
            Value::Array(_) => {
                return Err(CodegenError::unsupported(
                    location,
                    "a union directly inside a union is not valid Avro",
                ));
            }
            _ => "",
        };
        Ok(match kind {
            "null" => Shape::Null,
            "boolean" => Shape::Boolean,
            "int" | "long" => Shape::Integer,
            "float" | "double" => Shape::Number,
            "string" | "enum" => Shape::Text,
            "array" | "bytes" | "fixed" => Shape::Sequence,
            "map" => Shape::Map,
            "record" | "error" => Shape::Record(record_fields(schema)),
            name => {
                let full = qualify(name, namespace);
                match self
                    .definitions
                    .get(&full)
                    .or_else(|| self.definitions.get(name))
                {
                    Some(definition) => self.shape(definition, namespace, location)?,
                    None => {
                        return Err(CodegenError::unsupported(
                            location,
                            format!("unknown type `{name}`"),
                        ));
                    }
                }
            }
        })
    }
}

/// The fields of a record schema: name, and whether it has a default.
fn record_fields(schema: &Value) -> Vec<(String, bool)> {
    schema
        .get("fields")
        .and_then(Value::as_array)
        .map(|fields| {
            fields
                .iter()
                .filter_map(|f| {
                    let name = f.get("name")?.as_str()?;
                    Some((name.to_owned(), f.get("default").is_some()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a value of the later shape `later` could be read as the earlier `earlier`.
fn clashes(earlier: &Shape, later: &Shape) -> bool {
    match (earlier, later) {
        // serde reads a JSON integer as a float, not a float as an integer.
        (Shape::Number, Shape::Integer) => true,
        (Shape::Map, Shape::Map | Shape::Record(_)) | (Shape::Record(_), Shape::Map) => true,
        // serde also reads a struct from an array, field by field.
        (Shape::Record(_), Shape::Sequence) => true,
        // A record reads any object holding its fields without default (unknown fields are
        // ignored), and so does apache-avro's union resolution.
        (Shape::Record(a), Shape::Record(b)) => !a
            .iter()
            .any(|(name, has_default)| !has_default && !b.iter().any(|(n, _)| n == name)),
        (a, b) => a == b,
    }
}

/// A union branch as the source writes it, for messages and docs.
fn describe(branch: &Value) -> String {
    match branch {
        Value::String(name) => name.clone(),
        Value::Object(o) => {
            let kind = o.get("type").map_or_else(String::new, |t| match t {
                Value::String(t) => t.clone(),
                other => other.to_string(),
            });
            match (
                o.get("name").and_then(Value::as_str),
                o.get("logicalType").and_then(Value::as_str),
            ) {
                (Some(name), _) => name.to_owned(),
                (None, Some(logical)) => format!("{kind} ({logical})"),
                (None, None) => kind,
            }
        }
        other => other.to_string(),
    }
}

/// The Rust variant name of a union branch.
fn branch_name(branch: &Value) -> String {
    match branch {
        Value::String(name) => camel(name.rsplit('.').next().unwrap_or(name)),
        Value::Object(o) => {
            let logical = o.get("logicalType").and_then(Value::as_str);
            let name = o.get("name").and_then(Value::as_str);
            match (name, logical, o.get("type")) {
                (Some(name), _, _) => camel(name.rsplit('.').next().unwrap_or(name)),
                (None, Some(logical), _) => camel(logical),
                (None, None, Some(Value::String(kind))) => camel(kind),
                (None, None, Some(inner)) => branch_name(inner),
                _ => "Branch".to_owned(),
            }
        }
        _ => "Branch".to_owned(),
    }
}
