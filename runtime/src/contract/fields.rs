//! Rewriting the tagged fields of an Avro datum in place of decoding it: a walk over the
//! binary encoding with its schema that copies every value, and hands the string and bytes
//! fields a rule selects to a transformation.

use std::collections::{BTreeSet, HashMap};

use apache_avro::Schema;
use apache_avro::schema::{InnerDecimalSchema, Name, RecordField, UuidSchema};

use super::RuleError;
use crate::schema::json::TAGS_KEYWORD;

/// What a transformed field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// An Avro `string` (UTF-8 text).
    String,
    /// Avro `bytes`.
    Bytes,
}

/// A writer's Avro schema with its named types, ready for [`rewrite`].
#[derive(Debug)]
pub struct AvroSchema {
    schema: Schema,
    names: HashMap<Name, Schema>,
}

impl AvroSchema {
    /// Parses an Avro schema's text.
    pub fn parse(text: &str) -> Result<Self, RuleError> {
        let schema =
            Schema::parse_str(text).map_err(|error| RuleError::Schema(error.to_string()))?;
        let mut names = HashMap::new();
        collect_names(&schema, &mut names);
        Ok(AvroSchema { schema, names })
    }

    /// The parsed schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }
}

fn collect_names(schema: &Schema, names: &mut HashMap<Name, Schema>) {
    match schema {
        Schema::Record(record) => {
            names.insert(record.name.clone(), schema.clone());
            for field in &record.fields {
                collect_names(&field.schema, names);
            }
        }
        Schema::Enum(inner) => {
            names.insert(inner.name.clone(), schema.clone());
        }
        Schema::Fixed(inner) | Schema::Duration(inner) => {
            names.insert(inner.name.clone(), schema.clone());
        }
        Schema::Array(inner) => collect_names(&inner.items, names),
        Schema::Map(inner) => collect_names(&inner.types, names),
        Schema::Union(union) => {
            for variant in union.variants() {
                collect_names(variant, names);
            }
        }
        _ => {}
    }
}

/// The tags of a record field (its `"confluent:tags"`).
fn field_tags(field: &RecordField) -> impl Iterator<Item = &str> {
    field
        .custom_attributes
        .get(TAGS_KEYWORD)
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(serde_json::Value::as_str)
}

/// Whether a rule with `rule_tags` applies to `field`: a rule without tags applies to every
/// field, as in Confluent's clients.
fn selected(rule_tags: &BTreeSet<String>, field: &RecordField) -> bool {
    rule_tags.is_empty() || field_tags(field).any(|tag| rule_tags.contains(tag))
}

/// Which fields a walk hands to its transformation.
#[derive(Clone, Copy)]
enum Select<'a> {
    /// The fields a rule with these tags applies to.
    Tags(&'a BTreeSet<String>),
    /// The fields of this name.
    Named(&'a str),
}

impl Select<'_> {
    fn picks(self, field: &RecordField) -> bool {
        match self {
            Select::Tags(tags) => selected(tags, field),
            Select::Named(name) => field.name == name,
        }
    }

    /// Whether a picked field of a type it cannot transform is an error.
    fn insists(self) -> bool {
        matches!(self, Select::Tags(tags) if !tags.is_empty())
    }
}

/// A field value handed to the transformation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FieldValue {
    /// String or bytes.
    pub(crate) kind: FieldKind,
    /// Whether the field's type is a union with `null`, so that the transformation may
    /// answer `None` (null).
    pub(crate) nullable: bool,
}

/// The string value of the first field named `name` (at any depth) that holds a string;
/// `None` when no such field holds one.
pub(crate) fn string_field(
    schema: &AvroSchema,
    datum: &[u8],
    name: &str,
) -> Result<Option<String>, RuleError> {
    let mut found = None;
    walk(
        schema,
        datum,
        Select::Named(name),
        false,
        &mut |field, value| {
            if found.is_none() && field.kind == FieldKind::String {
                found = Some(String::from_utf8_lossy(value).into_owned());
            }
            Ok(Some(value.to_vec()))
        },
    )?;
    Ok(found)
}

/// Whether any field of `schema` (at any depth) is selected by `rule_tags`.
pub(crate) fn has_selected(schema: &AvroSchema, rule_tags: &BTreeSet<String>) -> bool {
    schema.names.values().any(|named| match named {
        Schema::Record(record) => record.fields.iter().any(|f| selected(rule_tags, f)),
        _ => false,
    })
}

/// What [`rewrite`] does to a selected field's value: the new value, or `None` for null
/// (only for a nullable field).
pub(crate) type Transform<'a> =
    dyn FnMut(FieldValue, &[u8]) -> Result<Option<Vec<u8>>, RuleError> + 'a;

/// Copies `datum` of `schema`, replacing the value of each string or bytes field that
/// `rule_tags` selects with `transform(kind, value)`. A tagged field of another type is
/// refused when `strict` (writing), and copied as it is otherwise (reading, or a rule without
/// tags).
pub(crate) fn rewrite(
    schema: &AvroSchema,
    datum: &[u8],
    rule_tags: &BTreeSet<String>,
    strict: bool,
    transform: &mut Transform<'_>,
) -> Result<Vec<u8>, RuleError> {
    walk(schema, datum, Select::Tags(rule_tags), strict, transform)
}

fn walk(
    schema: &AvroSchema,
    datum: &[u8],
    select: Select<'_>,
    strict: bool,
    transform: &mut Transform<'_>,
) -> Result<Vec<u8>, RuleError> {
    let mut walk = Walk {
        names: &schema.names,
        input: datum,
        position: 0,
        out: Vec::with_capacity(datum.len() + 64),
        select,
        strict,
        transform,
    };
    walk.value(&schema.schema, false)?;
    if walk.position != datum.len() {
        return Err(RuleError::Datum(format!(
            "{} bytes left after the datum",
            datum.len() - walk.position
        )));
    }
    Ok(walk.out)
}

struct Walk<'a, 't> {
    names: &'a HashMap<Name, Schema>,
    input: &'a [u8],
    position: usize,
    out: Vec<u8>,
    select: Select<'a>,
    strict: bool,
    transform: &'t mut Transform<'t>,
}

impl<'a> Walk<'a, '_> {
    /// Copies one value; `tagged` when it is the value of a selected field.
    fn value(&mut self, schema: &Schema, tagged: bool) -> Result<(), RuleError> {
        match schema {
            Schema::Null => Ok(()),
            Schema::Boolean => self.copy(1),
            Schema::Int
            | Schema::Long
            | Schema::Enum(_)
            | Schema::Date
            | Schema::TimeMillis
            | Schema::TimeMicros
            | Schema::TimestampMillis
            | Schema::TimestampMicros
            | Schema::TimestampNanos
            | Schema::LocalTimestampMillis
            | Schema::LocalTimestampMicros
            | Schema::LocalTimestampNanos => {
                self.copy_long()?;
                Ok(())
            }
            Schema::Float => self.copy(4),
            Schema::Double => self.copy(8),
            Schema::String | Schema::Uuid(UuidSchema::String) if tagged => {
                self.transformed(FieldKind::String, None)
            }
            Schema::Bytes if tagged => self.transformed(FieldKind::Bytes, None),
            Schema::String
            | Schema::Bytes
            | Schema::BigDecimal
            | Schema::Uuid(UuidSchema::String | UuidSchema::Bytes) => self.copy_sized(),
            Schema::Decimal(decimal) => match &decimal.inner {
                InnerDecimalSchema::Bytes => self.copy_sized(),
                InnerDecimalSchema::Fixed(fixed) => self.copy(fixed.size),
            },
            Schema::Fixed(fixed) => self.copy(fixed.size),
            Schema::Uuid(UuidSchema::Fixed(_)) => self.copy(16),
            Schema::Duration(_) => self.copy(12),
            Schema::Array(array) => self.blocks(|walk| walk.value(&array.items, false)),
            Schema::Map(map) => self.blocks(|walk| {
                walk.copy_sized()?;
                walk.value(&map.types, false)
            }),
            Schema::Union(union) => {
                let start = self.position;
                let branch = self.read_long()?;
                let variant = usize::try_from(branch)
                    .ok()
                    .and_then(|i| union.variants().get(i))
                    .ok_or_else(|| RuleError::Datum(format!("union branch {branch}")))?;
                let kind = match variant {
                    Schema::String | Schema::Uuid(UuidSchema::String) => Some(FieldKind::String),
                    Schema::Bytes => Some(FieldKind::Bytes),
                    _ => None,
                };
                let null = union
                    .variants()
                    .iter()
                    .position(|v| matches!(v, Schema::Null));
                let index = &self.input[start..self.position];
                match kind.filter(|_| tagged) {
                    // The branch is written after the value, which may turn null.
                    Some(kind) => self.transformed(kind, Some((index, null))),
                    None => {
                        self.out.extend_from_slice(index);
                        self.value(variant, tagged)
                    }
                }
            }
            Schema::Record(record) => {
                for field in &record.fields {
                    let tagged = self.select.picks(field);
                    if tagged && !transformable(&field.schema, self.names) {
                        // A rule without tags passes over the fields it cannot transform.
                        if self.strict && self.select.insists() {
                            return Err(RuleError::UnsupportedField(field.name.clone()));
                        }
                        self.value(&field.schema, false)?;
                        continue;
                    }
                    self.value(&field.schema, tagged)?;
                }
                Ok(())
            }
            Schema::Ref { name } => {
                let names = self.names;
                let named = names
                    .get(name)
                    .ok_or_else(|| RuleError::Schema(format!("unknown type `{name}`")))?;
                self.value(named, tagged)
            }
        }
    }

    /// Reads a string or bytes value and writes what the transformation makes of it; in a
    /// union, `branch` is the branch's encoded index and the null branch's position.
    fn transformed(
        &mut self,
        kind: FieldKind,
        branch: Option<(&'a [u8], Option<usize>)>,
    ) -> Result<(), RuleError> {
        let length = self.read_length()?;
        let value = self.take(length)?;
        let null = branch.and_then(|(_, null)| null);
        let field = FieldValue {
            kind,
            nullable: null.is_some(),
        };
        match ((self.transform)(field, value)?, branch) {
            (Some(replaced), branch) => {
                if let Some((index, _)) = branch {
                    self.out.extend_from_slice(index);
                }
                write_long(&mut self.out, replaced.len() as i64);
                self.out.extend_from_slice(&replaced);
            }
            (None, _) => match null {
                Some(null) => write_long(&mut self.out, null as i64),
                None => {
                    return Err(RuleError::Datum(
                        "a field that is not nullable cannot become null".to_owned(),
                    ));
                }
            },
        }
        Ok(())
    }

    /// Array or map blocks, written back with positive counts (sizes dropped).
    fn blocks(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Result<(), RuleError>,
    ) -> Result<(), RuleError> {
        loop {
            let count = self.read_long()?;
            if count == 0 {
                write_long(&mut self.out, 0);
                return Ok(());
            }
            if count < 0 {
                self.read_long()?;
            }
            let count = count.unsigned_abs();
            write_long(&mut self.out, count as i64);
            for _ in 0..count {
                item(self)?;
            }
        }
    }

    fn take(&mut self, length: usize) -> Result<&'a [u8], RuleError> {
        let end = self
            .position
            .checked_add(length)
            .filter(|end| *end <= self.input.len())
            .ok_or_else(|| RuleError::Datum("the datum ends early".to_owned()))?;
        let slice = &self.input[self.position..end];
        self.position = end;
        Ok(slice)
    }

    fn copy(&mut self, length: usize) -> Result<(), RuleError> {
        let input = self.input;
        let start = self.position;
        self.take(length)?;
        self.out.extend_from_slice(&input[start..self.position]);
        Ok(())
    }

    fn copy_long(&mut self) -> Result<i64, RuleError> {
        let start = self.position;
        let value = self.read_long()?;
        self.out
            .extend_from_slice(&self.input[start..self.position]);
        Ok(value)
    }

    fn copy_sized(&mut self) -> Result<(), RuleError> {
        let length = self.copy_long()?;
        let length = usize::try_from(length)
            .map_err(|_| RuleError::Datum("a negative length".to_owned()))?;
        self.copy(length)
    }

    fn read_length(&mut self) -> Result<usize, RuleError> {
        let length = self.read_long()?;
        usize::try_from(length).map_err(|_| RuleError::Datum("a negative length".to_owned()))
    }

    /// A zig-zag varint `long`.
    fn read_long(&mut self) -> Result<i64, RuleError> {
        let mut value: u64 = 0;
        for shift in 0..10 {
            let byte = *self
                .input
                .get(self.position)
                .ok_or_else(|| RuleError::Datum("the datum ends early".to_owned()))?;
            self.position += 1;
            value |= u64::from(byte & 0x7f) << (7 * shift);
            if byte & 0x80 == 0 {
                return Ok((value >> 1) as i64 ^ -((value & 1) as i64));
            }
        }
        Err(RuleError::Datum("a varint longer than 10 bytes".to_owned()))
    }
}

/// Whether a selected field's values can be transformed: string or bytes, or a union whose
/// branches are those and null.
fn transformable(schema: &Schema, names: &HashMap<Name, Schema>) -> bool {
    match schema {
        Schema::String | Schema::Bytes | Schema::Uuid(UuidSchema::String) => true,
        Schema::Union(union) => union
            .variants()
            .iter()
            .all(|variant| matches!(variant, Schema::Null) || transformable(variant, names)),
        Schema::Ref { name } => names.get(name).is_some_and(|s| transformable(s, names)),
        _ => false,
    }
}

/// Appends a zig-zag varint `long`.
fn write_long(out: &mut Vec<u8>, value: i64) {
    let mut n = ((value << 1) ^ (value >> 63)) as u64;
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn tags(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    const SCHEMA: &str = r#"{"type": "record", "name": "Customer", "fields": [
        {"name": "id", "type": "string"},
        {"name": "email", "type": "string", "confluent:tags": ["PII"]},
        {"name": "phones", "type": {"type": "array", "items": "string"}},
        {"name": "note", "type": ["null", "bytes"], "confluent:tags": ["PII"]},
        {"name": "age", "type": "int"}
    ]}"#;

    fn datum() -> Vec<u8> {
        let schema = Schema::parse_str(SCHEMA).unwrap();
        let mut record = apache_avro::types::Record::new(&schema).unwrap();
        record.put("id", "c-1");
        record.put("email", "ada@example.com");
        record.put(
            "phones",
            apache_avro::types::Value::Array(vec!["1".into(), "2".into()]),
        );
        record.put(
            "note",
            apache_avro::types::Value::Union(
                1,
                Box::new(apache_avro::types::Value::Bytes(vec![7])),
            ),
        );
        record.put("age", 42);
        apache_avro::writer::datum::GenericDatumWriter::builder(&schema)
            .build()
            .unwrap()
            .write_value_to_vec(record)
            .unwrap()
    }

    #[test]
    fn only_tagged_fields_are_transformed() {
        let schema = AvroSchema::parse(SCHEMA).unwrap();
        let datum = datum();
        let mut seen = Vec::new();
        let rewritten = rewrite(
            &schema,
            &datum,
            &tags(&["PII"]),
            true,
            &mut |field, value| {
                seen.push((field.kind, field.nullable, value.to_vec()));
                Ok(Some([b"<", value, b">"].concat()))
            },
        )
        .unwrap();
        assert_eq!(
            seen,
            [
                (FieldKind::String, false, b"ada@example.com".to_vec()),
                (FieldKind::Bytes, true, vec![7])
            ]
        );
        let back = apache_avro::reader::datum::GenericDatumReader::builder(schema.schema())
            .build()
            .unwrap()
            .read_value(&mut &rewritten[..])
            .unwrap();
        let apache_avro::types::Value::Record(fields) = back else {
            panic!("{back:?}")
        };
        assert_eq!(
            fields[1].1,
            apache_avro::types::Value::String("<ada@example.com>".into())
        );
        assert_eq!(fields[4].1, apache_avro::types::Value::Int(42));
        // Another tag selects nothing; the copy is exact.
        let copy = rewrite(
            &schema,
            &datum,
            &tags(&["OTHER"]),
            true,
            &mut |_, _| unreachable!(),
        )
        .unwrap();
        assert_eq!(copy, datum);
        assert!(has_selected(&schema, &tags(&["PII"])));
        assert!(!has_selected(&schema, &tags(&["OTHER"])));
    }

    #[test]
    fn a_truncated_datum_is_an_error() {
        let schema = AvroSchema::parse(SCHEMA).unwrap();
        let datum = datum();
        let cut = rewrite(&schema, &datum[..5], &tags(&[]), false, &mut |_, v| {
            Ok(Some(v.to_vec()))
        });
        assert!(matches!(cut, Err(RuleError::Datum(_))), "{cut:?}");
    }

    #[test]
    fn a_nullable_field_can_become_null_and_a_named_field_is_read() {
        let schema = AvroSchema::parse(SCHEMA).unwrap();
        let datum = datum();
        assert_eq!(
            string_field(&schema, &datum, "id").unwrap().as_deref(),
            Some("c-1")
        );
        assert_eq!(string_field(&schema, &datum, "nope").unwrap(), None);
        let nulled = rewrite(
            &schema,
            &datum,
            &tags(&["PII"]),
            false,
            &mut |field, value| Ok((!field.nullable).then(|| value.to_vec())),
        )
        .unwrap();
        let back = apache_avro::reader::datum::GenericDatumReader::builder(schema.schema())
            .build()
            .unwrap()
            .read_value(&mut &nulled[..])
            .unwrap();
        let apache_avro::types::Value::Record(fields) = back else {
            panic!("{back:?}")
        };
        assert_eq!(
            fields[3].1,
            apache_avro::types::Value::Union(0, Box::new(apache_avro::types::Value::Null))
        );
        assert_eq!(fields[4].1, apache_avro::types::Value::Int(42));
        let refused = rewrite(&schema, &datum, &tags(&["PII"]), false, &mut |_, _| {
            Ok(None)
        });
        assert!(matches!(refused, Err(RuleError::Datum(_))), "{refused:?}");
    }
}
