//! Resolution of `$ref` inside one document: JSON pointer fragments, anchors (`$anchor`,
//! or an `$id`/`id` that is a bare fragment) and the `$id`s of embedded subschemas.
//! References to other documents are left unresolved; nothing is ever fetched.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::schema::Draft;

/// Keywords whose values are data, not subschemas, and are not searched for identifiers.
const DATA_KEYWORDS: &[&str] = &["enum", "const", "default", "examples"];

/// The identifiers of one document, each mapped to the JSON pointer of its schema.
#[derive(Debug, Default)]
pub(crate) struct RefIndex {
    /// `$id` (or `id` in draft 4) values, without fragment.
    ids: HashMap<String, String>,
    /// Plain-name fragments.
    anchors: HashMap<String, String>,
}

impl RefIndex {
    /// Indexes the identifiers declared anywhere in `document`.
    pub(crate) fn new(document: &Value, draft: Draft) -> Self {
        let id_keyword = if draft == Draft::Draft4 { "id" } else { "$id" };
        let mut index = RefIndex::default();
        for_each_object(document, |map, pointer| {
            if let Some(Value::String(id)) = map.get(id_keyword) {
                match id.split_once('#') {
                    Some((base, fragment)) => {
                        if !base.is_empty() {
                            index.ids.insert(base.to_owned(), pointer.to_owned());
                        }
                        if !fragment.is_empty() {
                            index
                                .anchors
                                .insert(fragment.to_owned(), pointer.to_owned());
                        }
                    }
                    None => {
                        index.ids.insert(id.clone(), pointer.to_owned());
                    }
                }
            }
            if let Some(Value::String(anchor)) = map.get("$anchor") {
                index.anchors.insert(anchor.clone(), pointer.to_owned());
            }
        });
        index
    }

    /// The JSON pointer `reference` points at, when it points into this document.
    pub(crate) fn resolve(&self, reference: &str) -> Option<String> {
        let (base, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let base_pointer = if base.is_empty() {
            String::new()
        } else {
            self.ids
                .iter()
                .find(|(id, _)| {
                    id.as_str() == base
                        || id.ends_with(&format!("/{base}"))
                        || base.ends_with(&format!("/{id}"))
                })
                .map(|(_, pointer)| pointer.clone())?
        };
        let fragment = percent_decode(fragment);
        if fragment.is_empty() {
            Some(base_pointer)
        } else if fragment.starts_with('/') {
            Some(format!("{base_pointer}{fragment}"))
        } else {
            self.anchors.get(&fragment).cloned()
        }
    }
}

/// Calls `visit` with every object of `document` that can be a schema, and its JSON pointer;
/// the values of data keywords (`enum`, `const`, `default`, `examples`) are not entered.
pub(crate) fn for_each_object(document: &Value, mut visit: impl FnMut(&Map<String, Value>, &str)) {
    let mut pending: Vec<(&Value, String)> = vec![(document, String::new())];
    while let Some((value, pointer)) = pending.pop() {
        match value {
            Value::Object(map) => {
                visit(map, &pointer);
                for (key, child) in map {
                    if !DATA_KEYWORDS.contains(&key.as_str()) {
                        let token = key.replace('~', "~0").replace('/', "~1");
                        pending.push((child, format!("{pointer}/{token}")));
                    }
                }
            }
            Value::Array(items) => {
                for (position, child) in items.iter().enumerate() {
                    pending.push((child, format!("{pointer}/{position}")));
                }
            }
            _ => {}
        }
    }
}

/// Decodes `%XX` escapes; malformed escapes are kept as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && let Some(hex) = text.get(index + 1..index + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            index += 3;
            continue;
        }
        out.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resolves_pointers_anchors_and_embedded_ids() {
        let document = json!({
            "$id": "http://example.com/root.json",
            "definitions": {
                "a b": {"$anchor": "named"},
                "other": {"$id": "other.json"}
            }
        });
        let index = RefIndex::new(&document, Draft::Draft7);
        assert_eq!(index.resolve("#"), Some(String::new()));
        assert_eq!(
            index.resolve("#/definitions/a%20b"),
            Some("/definitions/a b".to_owned())
        );
        assert_eq!(index.resolve("#named"), Some("/definitions/a b".to_owned()));
        assert_eq!(
            index.resolve("other.json"),
            Some("/definitions/other".to_owned())
        );
        assert_eq!(index.resolve("http://elsewhere.org/x.json"), None);
    }
}
