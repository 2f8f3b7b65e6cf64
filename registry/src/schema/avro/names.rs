//! Avro names: what a valid name is, how a name takes its namespace, and the `name`,
//! `namespace` and `aliases` attributes of a named type.

use serde_json::{Map, Value};

use super::attributes::{self, error, kind_of};
use super::{Name, Named, Path, Primitive};
use crate::schema::SchemaError;

/// `[A-Za-z_][A-Za-z0-9_]*`.
pub(super) fn is_simple_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Simple names joined by dots.
pub(super) fn is_dotted_name(name: &str) -> bool {
    name.split('.').all(is_simple_name)
}

/// The full name `name` stands for in namespace `ns`: a dotted name is already full.
pub(super) fn qualify(name: &str, ns: &str) -> String {
    if name.contains('.') || ns.is_empty() {
        name.to_owned()
    } else {
        format!("{ns}.{name}")
    }
}

/// The names listed in `raw` (at `path`), each of which must be a simple name; `message` is
/// the error at the position of one that is not.
pub(super) fn simple_names(
    raw: &[Value],
    path: &Path<'_>,
    message: &str,
) -> Result<Vec<String>, SchemaError> {
    raw.iter()
        .enumerate()
        .map(|(index, value)| match value {
            Value::String(name) if is_simple_name(name) => Ok(name.clone()),
            _ => Err(error(&path.index(index), message)),
        })
        .collect()
}

/// Reads and checks `name`, `namespace` and `aliases` of the named type at `path`, defined
/// in namespace `ns`; `defined` says whether a full name is already taken.
pub(super) fn define(
    object: &Map<String, Value>,
    ns: &str,
    path: &Path<'_>,
    defined: impl Fn(&str) -> bool,
) -> Result<Named, SchemaError> {
    let name_path = path.key("name");
    let Some(name) = attributes::string(object, "name", path)? else {
        return Err(error(path, "a named type needs a `name` attribute"));
    };
    let own_ns = match object.get("namespace") {
        None | Some(Value::Null) => ns,
        Some(Value::String(space)) => {
            if !space.is_empty() && !is_dotted_name(space) {
                return Err(error(
                    &path.key("namespace"),
                    format!(
                        "`{space}` is not a valid namespace (dot-separated names of letters, digits and `_`, not starting with a digit)"
                    ),
                ));
            }
            space.as_str()
        }
        Some(other) => {
            return Err(error(
                &path.key("namespace"),
                format!("`namespace` must be a string, found {}", kind_of(other)),
            ));
        }
    };
    if !is_dotted_name(name) {
        return Err(error(
            &name_path,
            format!(
                "`{name}` is not a valid name (letters, digits and `_`, not starting with a digit)"
            ),
        ));
    }
    let full = qualify(name, own_ns);
    if Primitive::from_name(&full).is_some() {
        return Err(error(
            &name_path,
            format!("`{full}` is a primitive type and cannot be redefined"),
        ));
    }
    if defined(&full) {
        return Err(error(
            &name_path,
            format!("`{full}` is defined twice; refer to the first definition by name"),
        ));
    }
    let name = Name::from_full(full);
    let aliases = named_aliases(object, name.namespace(), path)?;
    Ok(Named { name, aliases })
}

/// The aliases of a named type, qualified with its namespace, sorted and deduplicated.
fn named_aliases(
    object: &Map<String, Value>,
    ns: &str,
    path: &Path<'_>,
) -> Result<Vec<String>, SchemaError> {
    let raw = attributes::aliases(object, path)?;
    let mut aliases = Vec::with_capacity(raw.len());
    for (index, alias) in raw.iter().enumerate() {
        match alias {
            Value::String(alias) if is_dotted_name(alias) => aliases.push(qualify(alias, ns)),
            _ => {
                return Err(error(
                    &path.key("aliases").index(index),
                    "an alias must be a name or a full name",
                ));
            }
        }
    }
    aliases.sort();
    aliases.dedup();
    Ok(aliases)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_specification() {
        assert!(is_simple_name("_a1"));
        assert!(!is_simple_name("1a"));
        assert!(!is_simple_name(""));
        assert!(!is_simple_name("a-b"));
        assert!(is_dotted_name("com.example.A"));
        assert!(!is_dotted_name("com..A"));
    }

    #[test]
    fn dotted_names_are_already_full() {
        assert_eq!(qualify("A", "x.y"), "x.y.A");
        assert_eq!(qualify("z.A", "x.y"), "z.A");
        assert_eq!(qualify("A", ""), "A");
    }
}
