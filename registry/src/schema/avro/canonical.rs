//! Writes the canonical form described in the parent module.

use std::fmt::Write as _;

use serde_json::Value;

use super::{AvroSchema, Field, Logical, Named, Node, NodeId, Order};

/// The canonical form of `schema`.
pub(super) fn write(schema: &AvroSchema) -> String {
    let mut writer = Writer {
        schema,
        out: String::new(),
        written: vec![false; schema.nodes.len()],
    };
    writer.node(schema.root);
    writer.out
}

struct Writer<'a> {
    schema: &'a AvroSchema,
    out: String,
    /// Named types already written in full; later occurrences are written as their name.
    written: Vec<bool>,
}

impl Writer<'_> {
    fn node(&mut self, id: NodeId) {
        let schema = self.schema;
        match schema.node(id) {
            Node::Primitive {
                kind,
                logical: None,
            } => string(&mut self.out, kind.name()),
            Node::Primitive {
                kind,
                logical: Some(logical),
            } => {
                self.out.push_str("{\"type\":");
                string(&mut self.out, kind.name());
                self.logical(logical);
                self.out.push('}');
            }
            Node::Array(items) => {
                self.out.push_str("{\"type\":\"array\",\"items\":");
                self.node(*items);
                self.out.push('}');
            }
            Node::Map(values) => {
                self.out.push_str("{\"type\":\"map\",\"values\":");
                self.node(*values);
                self.out.push('}');
            }
            Node::Union(branches) => {
                self.out.push('[');
                for (i, branch) in branches.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.node(*branch);
                }
                self.out.push(']');
            }
            Node::Record(record) => {
                if self.named_once(id, &record.named) {
                    self.out.push_str(",\"type\":\"record\",\"fields\":[");
                    for (i, field) in record.fields.iter().enumerate() {
                        if i > 0 {
                            self.out.push(',');
                        }
                        self.field(field);
                    }
                    self.out.push(']');
                    self.aliases(&record.named.aliases);
                    self.out.push('}');
                }
            }
            Node::Enum(enumeration) => {
                if self.named_once(id, &enumeration.named) {
                    self.out.push_str(",\"type\":\"enum\",\"symbols\":[");
                    for (i, symbol) in enumeration.symbols.iter().enumerate() {
                        if i > 0 {
                            self.out.push(',');
                        }
                        string(&mut self.out, symbol);
                    }
                    self.out.push(']');
                    if let Some(default) = &enumeration.default {
                        self.out.push_str(",\"default\":");
                        string(&mut self.out, default);
                    }
                    self.aliases(&enumeration.named.aliases);
                    self.out.push('}');
                }
            }
            Node::Fixed(fixed) => {
                if self.named_once(id, &fixed.named) {
                    // `write!` to a String cannot fail.
                    let _ = write!(self.out, ",\"type\":\"fixed\",\"size\":{}", fixed.size);
                    if let Some(logical) = &fixed.logical {
                        self.logical(logical);
                    }
                    self.aliases(&fixed.named.aliases);
                    self.out.push('}');
                }
            }
        }
    }

    /// Writes the name alone if the type was written before and returns false; otherwise
    /// opens the object with its `name` and returns true.
    fn named_once(&mut self, id: NodeId, named: &Named) -> bool {
        if self.written[id as usize] {
            string(&mut self.out, named.name.full());
            return false;
        }
        self.written[id as usize] = true;
        self.out.push_str("{\"name\":");
        string(&mut self.out, named.name.full());
        true
    }

    fn field(&mut self, field: &Field) {
        self.out.push_str("{\"name\":");
        string(&mut self.out, &field.name);
        self.out.push_str(",\"type\":");
        self.node(field.ty);
        if let Some(default) = &field.default {
            self.out.push_str(",\"default\":");
            value(&mut self.out, default);
        }
        let mut aliases = field.aliases.clone();
        aliases.sort();
        aliases.dedup();
        self.aliases(&aliases);
        match field.order {
            Order::Ascending => {}
            Order::Descending => self.out.push_str(",\"order\":\"descending\""),
            Order::Ignore => self.out.push_str(",\"order\":\"ignore\""),
        }
        self.out.push('}');
    }

    fn logical(&mut self, logical: &Logical) {
        self.out.push_str(",\"logicalType\":");
        string(&mut self.out, &logical.name);
        if let Some(precision) = logical.precision {
            let _ = write!(self.out, ",\"precision\":{precision}");
        }
        if let Some(scale) = logical.scale {
            let _ = write!(self.out, ",\"scale\":{scale}");
        }
    }

    /// `,"aliases":[...]` for a non-empty, sorted list.
    fn aliases(&mut self, aliases: &[String]) {
        if aliases.is_empty() {
            return;
        }
        self.out.push_str(",\"aliases\":[");
        for (i, alias) in aliases.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            string(&mut self.out, alias);
        }
        self.out.push(']');
    }
}

/// A JSON value without whitespace and with object keys sorted.
fn value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                string(out, key);
                out.push(':');
                if let Some(item) = map.get(key) {
                    value(out, item);
                }
            }
            out.push('}');
        }
    }
}

/// A JSON string literal: UTF-8 as is, escaping only what JSON requires (rule STRINGS).
fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use serde_json::json;

    use super::super::parse;

    fn canonical(value: serde_json::Value) -> String {
        parse(&value).unwrap().1
    }

    #[test]
    fn spellings_of_one_schema_share_a_canonical_form() {
        let a = json!({
            "type": "record", "name": "Order", "namespace": "com.example",
            "doc": "an order",
            "fields": [
                {"name": "id", "type": "string", "doc": "the id"},
                {"name": "amount", "type": {"type": "double"}, "default": 0},
                {"name": "tags", "type": {"type": "array", "items": "string"}, "default": []},
                {"name": "status", "type": {"type": "enum", "name": "Status",
                    "symbols": ["NEW", "DONE"], "default": "NEW"}},
                {"name": "next", "type": ["null", "Order"], "default": null,
                    "aliases": ["following", "after"]},
                {"name": "again", "type": "com.example.Status"}
            ],
            "aliases": ["OldOrder", "com.legacy.Order"]
        });
        let text = r#"
        {
          "fields" : [
            {"type": {"type": "string"}, "name": "id"},
            {"default": 0.0, "type": "double", "name": "amount"},
            {"name": "tags", "default": [], "type": {"items": {"type": "string"}, "type": "array"}},
            {"type": {"default": "NEW", "symbols": ["NEW", "DONE"], "type": "enum",
                      "name": "com.example.Status"}, "name": "status"},
            {"name": "next", "type": [{"type": "null"}, "com.example.Order"], "default": null,
             "aliases": ["after", "following", "after"]},
            {"type": "Status", "name": "again"}
          ],
          "name": "com.example.Order", "type": "record",
          "aliases": ["com.legacy.Order", "com.example.OldOrder"]
        }"#;
        let b: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(canonical(a.clone()), canonical(b));
        assert_eq!(
            canonical(a),
            concat!(
                r#"{"name":"com.example.Order","type":"record","fields":["#,
                r#"{"name":"id","type":"string"},"#,
                r#"{"name":"amount","type":"double","default":0.0},"#,
                r#"{"name":"tags","type":{"type":"array","items":"string"},"default":[]},"#,
                r#"{"name":"status","type":{"name":"com.example.Status","type":"enum","symbols":["NEW","DONE"],"default":"NEW"}},"#,
                r#"{"name":"next","type":["null","com.example.Order"],"default":null,"aliases":["after","following"]},"#,
                r#"{"name":"again","type":"com.example.Status"}],"#,
                r#""aliases":["com.example.OldOrder","com.legacy.Order"]}"#
            )
        );
    }

    #[test]
    fn resolution_attributes_are_kept() {
        let with_default = canonical(json!({"type": "record", "name": "R", "fields": [
            {"name": "a", "type": "int", "default": 1}]}));
        let without = canonical(json!({"type": "record", "name": "R", "fields": [
            {"name": "a", "type": "int"}]}));
        assert_ne!(with_default, without);
        assert_eq!(
            canonical(json!({"type": "bytes", "logicalType": "decimal", "precision": 4})),
            r#"{"type":"bytes","logicalType":"decimal","precision":4,"scale":0}"#
        );
        assert_eq!(
            canonical(json!({"type": "fixed", "name": "F", "size": 16, "logicalType": "uuid"})),
            r#"{"name":"F","type":"fixed","size":16,"logicalType":"uuid"}"#
        );
        assert_eq!(
            canonical(json!({"type": "record", "name": "R", "fields": [
                {"name": "a", "type": "int", "order": "descending"},
                {"name": "b", "type": "int", "order": "ascending"}]})),
            r#"{"name":"R","type":"record","fields":[{"name":"a","type":"int","order":"descending"},{"name":"b","type":"int"}]}"#
        );
    }

    #[test]
    fn strings_are_escaped_minimally() {
        assert_eq!(
            canonical(json!({"type": "record", "name": "R", "fields": [
                {"name": "a", "type": "string", "default": "é \"q\"\n"}]})),
            "{\"name\":\"R\",\"type\":\"record\",\"fields\":[{\"name\":\"a\",\"type\":\"string\",\"default\":\"é \\\"q\\\"\\n\"}]}"
        );
    }

    #[test]
    fn default_objects_have_sorted_keys() {
        assert_eq!(
            canonical(json!({"type": "record", "name": "R", "fields": [
                {"name": "m", "type": {"type": "map", "values": "long"}, "default": {"b": 1, "a": 2}}]})),
            r#"{"name":"R","type":"record","fields":[{"name":"m","type":{"type":"map","values":"long"},"default":{"a":2,"b":1}}]}"#
        );
    }
}
