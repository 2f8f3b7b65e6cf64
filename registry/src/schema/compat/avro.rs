//! Avro reader/writer compatibility, following the schema resolution rules of the Avro
//! specification with the semantics of Java Avro's `SchemaCompatibility` (which Confluent
//! Schema Registry uses):
//!
//! - primitives read themselves and the promotions int→long/float/double, long→float/double,
//!   float→double and string↔bytes; logical types are ignored (read as their underlying type),
//!   so for example two `decimal`s with different scales are compatible, as in Java;
//! - arrays and maps compare their item and value types;
//! - records, enums and fixed types must have the same unqualified name, or the reader must
//!   list the writer's full name among its aliases;
//! - every reader field must be found in the writer (by name, then by the reader field's
//!   aliases) or have a default; writer fields the reader lacks are skipped;
//! - the reader's enum must have every writer symbol, unless it has a default;
//! - fixed sizes must be equal;
//! - a writer union needs every branch readable; a reader union needs some branch that reads
//!   the writer. When the reader union has the branch that should read it (same name or
//!   alias) and that branch cannot, `MISSING_UNION_BRANCH` gives the branch's own reasons,
//!   which follow it as violations at the reader's path; records Herald exports name their
//!   event type (`herald.event_type`) in every message.
//!
//! Record pairs are memoized: a pair already being checked further up is assumed compatible
//! (that is how recursive types terminate, as in Java), and a pair checked before is not
//! checked again, so every violation inside a named type is reported once, where it is first
//! met. Work that cannot fail formats nothing: paths live on the stack and messages are only
//! written for violations.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt::Write as _;
use std::hash::{BuildHasherDefault, Hasher};

use crate::schema::avro::{AvroSchema, Enum, Fixed, Named, Node, NodeId, Path, Primitive, Record};

use super::Violation;

/// How many record pairs may be nested inside each other before the check gives up, to keep
/// the stack bounded on hostile input (a level costs well under a kilobyte of stack in
/// release builds and a few kilobytes in debug builds). Record nesting in real schemas is far
/// below this; reaching it takes a chain of hundreds of distinct records.
pub(crate) const MAX_RECORD_NESTING: u32 = 256;

/// What stops `reader` from reading data written with `writer`.
pub(crate) fn can_read(reader: &AvroSchema, writer: &AvroSchema) -> Vec<Violation> {
    let mut checker = Checker {
        reader,
        writer,
        memo: HashMap::default(),
        out: Vec::new(),
        nesting: 0,
    };
    checker.check(reader.root(), writer.root(), &Path::ROOT, true);
    checker.out
}

/// The state of a reader/writer record pair.
#[derive(Clone, Copy)]
enum Pair {
    InProgress,
    Compatible,
    /// Incompatible; `reported` says whether its violations are already in the output.
    Incompatible {
        reported: bool,
    },
}

/// A cheap hasher for pairs of node ids (the keys are small integers, not attacker-chosen
/// strings, so a multiplicative mix is enough).
#[derive(Default)]
struct PairHasher(u64);

impl Hasher for PairHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u32(u32::from(byte));
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = (self.0.rotate_left(23) ^ u64::from(n)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

struct Checker<'a> {
    reader: &'a AvroSchema,
    writer: &'a AvroSchema,
    memo: HashMap<(NodeId, NodeId), Pair, BuildHasherDefault<PairHasher>>,
    out: Vec<Violation>,
    nesting: u32,
}

impl<'a> Checker<'a> {
    /// Whether reader node `r` reads writer node `w`. With `report`, every violation is
    /// recorded; without (used to try union branches), the first failure ends the check.
    fn check(&mut self, r: NodeId, w: NodeId, path: &Path<'_>, report: bool) -> bool {
        let reader = self.reader.node(r);
        let writer = self.writer.node(w);
        match (reader, writer) {
            (Node::Union(readers), Node::Union(writers)) => {
                let mut ok = true;
                for (i, &branch) in writers.iter().enumerate() {
                    if !self.union_reads(readers, branch, path) {
                        ok = false;
                        if !report {
                            return false;
                        }
                        self.missing_branch(readers, branch, path, &path.index(i));
                    }
                }
                ok
            }
            (_, Node::Union(writers)) => {
                let mut ok = true;
                for &branch in writers.iter() {
                    if !self.check(r, branch, path, report) {
                        ok = false;
                        if !report {
                            return false;
                        }
                    }
                }
                ok
            }
            (Node::Union(readers), _) => {
                if self.union_reads(readers, w, path) {
                    return true;
                }
                if report {
                    self.missing_branch(readers, w, path, path);
                }
                false
            }
            (Node::Primitive { kind: rk, .. }, Node::Primitive { kind: wk, .. }) => {
                if promotes(*wk, *rk) {
                    return true;
                }
                if report {
                    self.type_mismatch(path, r, w);
                }
                false
            }
            (Node::Array(ri), Node::Array(wi)) => self.check(*ri, *wi, &path.key("items"), report),
            (Node::Map(rv), Node::Map(wv)) => self.check(*rv, *wv, &path.key("values"), report),
            (Node::Record(rr), Node::Record(wr)) => self.record_pair(r, w, rr, wr, path, report),
            (Node::Enum(re), Node::Enum(we)) => {
                let named = self.names_match(&re.named, &we.named, "enum", path, report);
                if !named && !report {
                    return false;
                }
                self.symbols(re, we, path, report) && named
            }
            (Node::Fixed(rf), Node::Fixed(wf)) => {
                let named = self.names_match(&rf.named, &wf.named, "fixed", path, report);
                if !named && !report {
                    return false;
                }
                self.fixed_size(rf, wf, path, report) && named
            }
            _ => {
                if report {
                    self.type_mismatch(path, r, w);
                }
                false
            }
        }
    }

    /// Whether some branch of a reader union reads writer node `w` (tried without reporting).
    fn union_reads(&mut self, readers: &[NodeId], w: NodeId, path: &Path<'_>) -> bool {
        readers.iter().enumerate().any(|(i, &branch)| {
            let at = path.index(i);
            self.check(branch, w, &at, false)
        })
    }

    /// The reader branch that should read writer node `w`: the same named type, or the same
    /// kind of complex type. When it cannot, its own violations say why.
    fn closest_branch(&self, readers: &[NodeId], w: NodeId) -> Option<usize> {
        let writer = self.writer.node(w);
        readers
            .iter()
            .position(|&branch| match (self.reader.node(branch), writer) {
                (Node::Record(r), Node::Record(w)) => r.named.reads_name(&w.named.name),
                (Node::Enum(r), Node::Enum(w)) => r.named.reads_name(&w.named.name),
                (Node::Fixed(r), Node::Fixed(w)) => r.named.reads_name(&w.named.name),
                (Node::Array(_), Node::Array(_)) | (Node::Map(_), Node::Map(_)) => true,
                _ => false,
            })
    }

    fn record_pair(
        &mut self,
        r: NodeId,
        w: NodeId,
        reader: &'a Record,
        writer: &'a Record,
        path: &Path<'_>,
        report: bool,
    ) -> bool {
        match self.memo.entry((r, w)) {
            Entry::Occupied(mut entry) => match *entry.get() {
                Pair::InProgress | Pair::Compatible => return true,
                Pair::Incompatible { reported } if reported || !report => return false,
                // Found incompatible while trying a union branch; check again to report.
                Pair::Incompatible { .. } => {
                    entry.insert(Pair::InProgress);
                }
            },
            Entry::Vacant(entry) => {
                entry.insert(Pair::InProgress);
            }
        }
        if self.nesting >= MAX_RECORD_NESTING {
            if report {
                self.push(
                    "NESTING_TOO_DEEP",
                    path,
                    format!(
                        "record `{}` is nested more than {MAX_RECORD_NESTING} records deep, where Herald stops checking",
                        reader.named.name.full()
                    ),
                    "flatten the schema",
                );
            }
            self.memo
                .insert((r, w), Pair::Incompatible { reported: report });
            return false;
        }
        self.nesting += 1;
        let named = self.names_match(&reader.named, &writer.named, "record", path, report);
        // Without reporting, a name mismatch already decides; with it, the fields are
        // checked too so that every violation is listed.
        let ok = if named || report {
            self.fields(reader, writer, path, report) && named
        } else {
            false
        };
        self.nesting -= 1;
        let state = if ok {
            Pair::Compatible
        } else {
            Pair::Incompatible { reported: report }
        };
        self.memo.insert((r, w), state);
        ok
    }

    fn fields(
        &mut self,
        reader: &'a Record,
        writer: &'a Record,
        path: &Path<'_>,
        report: bool,
    ) -> bool {
        let mut ok = true;
        for (i, field) in reader.fields.iter().enumerate() {
            let at = path.field(i, &field.name);
            // Fields usually keep their position, so try that before the lookup.
            let found = match writer.fields.get(i) {
                Some(same) if same.name == field.name => Some(same),
                _ => writer
                    .field(&field.name)
                    .or_else(|| field.aliases.iter().find_map(|alias| writer.field(alias))),
            };
            let fine = match found {
                Some(source) => self.check(field.ty, source.ty, &at.key("type"), report),
                None if field.default.is_some() => true,
                None => {
                    if report {
                        self.push(
                            "READER_FIELD_MISSING_DEFAULT_VALUE",
                            &at,
                            format!(
                                "field `{}` of {} is not in the writer's record and has no default",
                                field.name,
                                describe_record(reader)
                            ),
                            format!("give field `{}` a default", field.name),
                        );
                    }
                    false
                }
            };
            if !fine {
                ok = false;
                if !report {
                    return false;
                }
            }
        }
        ok
    }

    fn names_match(
        &mut self,
        reader: &Named,
        writer: &Named,
        what: &str,
        path: &Path<'_>,
        report: bool,
    ) -> bool {
        if reader.reads_name(&writer.name) {
            return true;
        }
        if report {
            self.push(
                "NAME_MISMATCH",
                &path.key("name"),
                format!(
                    "the reader's {what} `{}` does not match the writer's {what} `{}`",
                    reader.name.full(),
                    writer.name.full()
                ),
                format!(
                    "name the reader's {what} `{}` or add `{}` to its aliases",
                    writer.name.simple(),
                    writer.name.full()
                ),
            );
        }
        false
    }

    fn symbols(&mut self, reader: &Enum, writer: &Enum, path: &Path<'_>, report: bool) -> bool {
        if reader.default.is_some() {
            return true;
        }
        let mut missing = writer
            .symbols
            .iter()
            .filter(|symbol| !reader.has_symbol(symbol))
            .peekable();
        if missing.peek().is_none() {
            return true;
        }
        if report {
            let missing: Vec<&String> = missing.collect();
            let list = quoted_list(&missing);
            let (noun, pronoun) = if missing.len() == 1 {
                ("symbol", "it")
            } else {
                ("symbols", "them")
            };
            self.push(
                "MISSING_ENUM_SYMBOLS",
                &path.key("symbols"),
                format!(
                    "the reader's enum `{}` lacks the writer's {noun} {list}",
                    reader.named.name.full()
                ),
                format!(
                    "add {noun} {list} to the reader's enum or give the enum a default to read {pronoun} as"
                ),
            );
        }
        false
    }

    fn fixed_size(
        &mut self,
        reader: &Fixed,
        writer: &Fixed,
        path: &Path<'_>,
        report: bool,
    ) -> bool {
        if reader.size == writer.size {
            return true;
        }
        if report {
            self.push(
                "FIXED_SIZE_MISMATCH",
                &path.key("size"),
                format!(
                    "the reader's fixed `{}` is {} bytes but the writer's is {} bytes",
                    reader.named.name.full(),
                    reader.size,
                    writer.size
                ),
                format!(
                    "keep fixed `{}` at {} bytes; a fixed type cannot change size",
                    reader.named.name.full(),
                    writer.size
                ),
            );
        }
        false
    }

    fn type_mismatch(&mut self, path: &Path<'_>, r: NodeId, w: NodeId) {
        let reader = describe(self.reader.node(r));
        let writer = describe(self.writer.node(w));
        self.push(
            "TYPE_MISMATCH",
            path,
            format!(
                "{} has type {reader} in the reader, which cannot read the writer's {writer}",
                subject(path)
            ),
            format!(
                "keep type {writer} or use one it promotes to (int→long→float→double, string↔bytes), or a union that includes it"
            ),
        );
    }

    /// Reports that no branch of the reader union at `union` reads writer node `w` (found at
    /// `at`). When the union has the branch that should read it (same name or alias), that
    /// branch is checked again with reporting: its violations follow, and the first one is
    /// the reason given in this one's message.
    fn missing_branch(&mut self, readers: &[NodeId], w: NodeId, union: &Path<'_>, at: &Path<'_>) {
        let writer = describe(self.writer.node(w));
        let start = self.out.len();
        let closest = self.closest_branch(readers, w);
        if let Some(i) = closest {
            self.check(readers[i], w, &union.index(i), true);
        }
        let causes = &self.out[start..];
        let (message, hint) = match (closest, causes.first()) {
            (Some(_), Some(first)) => (
                format!(
                    "the reader's union for {} has a branch for the writer's {writer}, but that branch cannot read it: {}",
                    subject(at),
                    reasons(causes)
                ),
                first.hint.clone(),
            ),
            (Some(_), None) => (
                format!(
                    "the reader's union for {} has a branch for the writer's {writer}, but that branch cannot read it (see where that type is first compared)",
                    subject(at)
                ),
                format!("change {writer} only in ways its old data can be read"),
            ),
            (None, _) => (
                format!(
                    "the reader's union for {} has no branch that reads the writer's {writer}",
                    subject(at)
                ),
                format!("add {writer} (or a type it promotes to) to the reader's union"),
            ),
        };
        self.out.insert(
            start,
            Violation::new("MISSING_UNION_BRANCH", at.to_string(), message, hint),
        );
    }

    fn push(&mut self, kind: &str, path: &Path<'_>, message: String, hint: impl Into<String>) {
        self.out
            .push(Violation::new(kind, path.to_string(), message, hint));
    }
}

/// Whether data of primitive `writer` can be read as `reader`.
fn promotes(writer: Primitive, reader: Primitive) -> bool {
    use Primitive::{Bytes, Double, Float, Int, Long, String};
    writer == reader
        || matches!(
            (writer, reader),
            (Int, Long | Float | Double)
                | (Long, Float | Double)
                | (Float, Double)
                | (String, Bytes)
                | (Bytes, String)
        )
}

/// `field `price``, or `the schema` at the root.
fn subject(path: &Path<'_>) -> String {
    match path.field_name() {
        Some(name) => format!("field `{name}`"),
        None => "the schema".to_owned(),
    }
}

/// `` `long` ``, `record `com.example.Order``, `a union`.
fn describe(node: &Node) -> String {
    match node {
        Node::Primitive { kind, .. } => format!("`{}`", kind.name()),
        Node::Array(_) => "an array".to_owned(),
        Node::Map(_) => "a map".to_owned(),
        Node::Union(_) => "a union".to_owned(),
        Node::Record(record) => describe_record(record),
        Node::Enum(enumeration) => format!("enum `{}`", enumeration.named.name.full()),
        Node::Fixed(fixed) => format!("fixed `{}`", fixed.named.name.full()),
    }
}

/// The messages of the first few `causes`, each with its location, joined by `; `.
fn reasons(causes: &[Violation]) -> String {
    const SHOWN: usize = 3;
    let mut out = String::new();
    for (i, cause) in causes.iter().take(SHOWN).enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        let _ = write!(out, "{} (at {})", cause.message, cause.location);
    }
    if causes.len() > SHOWN {
        let _ = write!(out, "; and {} more", causes.len() - SHOWN);
    }
    out
}

/// `record `bank.account.Opened``, with the event type Herald's export gives it:
/// `record `bank.account.Opened` (event type `bank.account.opened`)`.
fn describe_record(record: &Record) -> String {
    match &record.event_type {
        Some(event_type) => format!(
            "record `{}` (event type `{event_type}`)",
            record.named.name.full()
        ),
        None => format!("record `{}`", record.named.name.full()),
    }
}

/// `` `A`, `B` `` for a few names, with a count when there are many.
fn quoted_list(items: &[&String]) -> String {
    const SHOWN: usize = 10;
    let mut out = String::new();
    for (i, item) in items.iter().take(SHOWN).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "`{item}`");
    }
    if items.len() > SHOWN {
        let _ = write!(out, " and {} more", items.len() - SHOWN);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::schema::avro;

    fn schema(value: Value) -> AvroSchema {
        avro::parse(&value).unwrap().0
    }

    fn violations(reader: Value, writer: Value) -> Vec<Violation> {
        can_read(&schema(reader), &schema(writer))
    }

    fn kinds_at(found: &[Violation]) -> Vec<(&str, &str)> {
        found
            .iter()
            .map(|v| (v.kind.as_str(), v.location.as_str()))
            .collect()
    }

    fn record(fields: Value) -> Value {
        json!({"type": "record", "name": "R", "namespace": "t", "fields": fields})
    }

    #[test]
    fn primitive_promotions_follow_the_specification() {
        let names = [
            "null", "boolean", "int", "long", "float", "double", "bytes", "string",
        ];
        let allowed = [
            ("int", "long"),
            ("int", "float"),
            ("int", "double"),
            ("long", "float"),
            ("long", "double"),
            ("float", "double"),
            ("string", "bytes"),
            ("bytes", "string"),
        ];
        for writer in names {
            for reader in names {
                let expected = writer == reader || allowed.contains(&(writer, reader));
                let found = violations(json!(reader), json!(writer));
                assert_eq!(found.is_empty(), expected, "{writer} read as {reader}");
                if !expected {
                    assert_eq!(kinds_at(&found), [("TYPE_MISMATCH", "/")]);
                }
            }
        }
    }

    #[test]
    fn added_field_needs_a_default() {
        let old = record(json!([{"name": "id", "type": "string"}]));
        let new = record(json!([
            {"name": "id", "type": "string"},
            {"name": "currency", "type": "string"}
        ]));
        let found = violations(new, old.clone());
        assert_eq!(
            kinds_at(&found),
            [("READER_FIELD_MISSING_DEFAULT_VALUE", "/fields/1")]
        );
        assert!(found[0].message.contains("`currency`"));
        assert_eq!(found[0].hint, "give field `currency` a default");

        let with_default = record(json!([
            {"name": "id", "type": "string"},
            {"name": "currency", "type": "string", "default": "EUR"}
        ]));
        assert!(violations(with_default.clone(), old.clone()).is_empty());
        // Removing a field is always readable: the reader skips what it does not know.
        assert!(violations(old, with_default).is_empty());
    }

    #[test]
    fn fields_are_found_by_name_in_any_order_and_by_alias() {
        let old = record(json!([
            {"name": "a", "type": "int"},
            {"name": "b", "type": "string"}
        ]));
        let reordered = record(json!([
            {"name": "b", "type": "string"},
            {"name": "a", "type": "long"}
        ]));
        assert!(violations(reordered, old.clone()).is_empty());
        let renamed = record(json!([
            {"name": "a", "type": "int"},
            {"name": "title", "type": "string", "aliases": ["b"]}
        ]));
        assert!(violations(renamed.clone(), old.clone()).is_empty());
        // The writer's aliases do not help the reader: reading the renamed field with the
        // old schema needs an alias there.
        assert_eq!(
            kinds_at(&violations(old, renamed)),
            [("READER_FIELD_MISSING_DEFAULT_VALUE", "/fields/1")]
        );
    }

    #[test]
    fn every_violation_is_reported_in_field_order() {
        let old = record(json!([
            {"name": "a", "type": "string"},
            {"name": "b", "type": {"type": "array", "items": "long"}},
            {"name": "c", "type": {"type": "map", "values": "double"}}
        ]));
        let new = record(json!([
            {"name": "a", "type": "int"},
            {"name": "b", "type": {"type": "array", "items": "int"}},
            {"name": "c", "type": {"type": "map", "values": "float"}},
            {"name": "d", "type": "boolean"}
        ]));
        assert_eq!(
            kinds_at(&violations(new, old)),
            [
                ("TYPE_MISMATCH", "/fields/0/type"),
                ("TYPE_MISMATCH", "/fields/1/type/items"),
                ("TYPE_MISMATCH", "/fields/2/type/values"),
                ("READER_FIELD_MISSING_DEFAULT_VALUE", "/fields/3"),
            ]
        );
    }

    #[test]
    fn enums_need_every_writer_symbol_or_a_default() {
        let enumeration = |symbols: Value, default: Option<&str>| {
            let mut e = json!({"type": "enum", "name": "Suit", "symbols": symbols});
            if let Some(default) = default {
                e["default"] = json!(default);
            }
            record(json!([{"name": "suit", "type": e}]))
        };
        let writer = enumeration(json!(["HEART", "SPADE", "CLUB", "X"]), None);
        let found = violations(enumeration(json!(["HEART", "SPADE"]), None), writer.clone());
        assert_eq!(
            kinds_at(&found),
            [("MISSING_ENUM_SYMBOLS", "/fields/0/type/symbols")]
        );
        assert!(
            found[0].message.contains("`CLUB`, `X`"),
            "{}",
            found[0].message
        );
        assert!(found[0].hint.starts_with(
            "add symbols `CLUB`, `X` to the reader's enum or give the enum a default"
        ));
        let with_default = enumeration(json!(["HEART", "SPADE", "UNKNOWN"]), Some("UNKNOWN"));
        assert!(violations(with_default, writer.clone()).is_empty());
        let wider = enumeration(json!(["HEART", "SPADE", "CLUB", "X", "DIAMOND"]), None);
        assert!(violations(wider, writer).is_empty());
    }

    #[test]
    fn unions_on_either_side() {
        // Reader union: some branch must read the writer.
        assert!(violations(json!(["null", "long"]), json!("int")).is_empty());
        assert_eq!(
            kinds_at(&violations(json!(["null", "string"]), json!("int"))),
            [("MISSING_UNION_BRANCH", "/")]
        );
        // Writer union: every branch must be readable.
        assert!(violations(json!("double"), json!(["int", "float"])).is_empty());
        assert_eq!(
            kinds_at(&violations(json!("string"), json!(["null", "string"]))),
            [("TYPE_MISMATCH", "/")]
        );
        // Both: each writer branch the reader union cannot read is reported at its index.
        let found = violations(
            record(json!([{"name": "v", "type": ["null", "int"]}])),
            record(json!([{"name": "v", "type": ["null", "string", "long", "int"]}])),
        );
        assert_eq!(
            kinds_at(&found),
            [
                ("MISSING_UNION_BRANCH", "/fields/0/type/1"),
                ("MISSING_UNION_BRANCH", "/fields/0/type/2"),
            ]
        );
        assert!(found[0].hint.contains("`string`"), "{}", found[0].hint);
        // Narrowing a field to its non-null branch fails one way only.
        let optional = record(json!([{"name": "v", "type": ["null", "int"], "default": null}]));
        let required = record(json!([{"name": "v", "type": "int"}]));
        assert!(violations(optional.clone(), required.clone()).is_empty());
        assert_eq!(
            kinds_at(&violations(required, optional)),
            [("TYPE_MISMATCH", "/fields/0/type")]
        );
    }

    #[test]
    fn a_failing_union_branch_is_explained() {
        let inner = |fields: Value| json!({"type": "record", "name": "Address", "fields": fields});
        let writer = record(
            json!([{"name": "home", "type": inner(json!([{"name": "street", "type": "string"}]))}]),
        );
        let reader = record(json!([{"name": "home", "type": ["null", inner(json!([
            {"name": "street", "type": "string"},
            {"name": "zip", "type": "string"}
        ]))], "default": null}]));
        assert_eq!(
            kinds_at(&violations(reader, writer)),
            [
                ("MISSING_UNION_BRANCH", "/fields/0/type"),
                (
                    "READER_FIELD_MISSING_DEFAULT_VALUE",
                    "/fields/0/type/1/fields/1"
                ),
            ]
        );
    }

    #[test]
    fn a_union_of_event_records_names_the_cause_and_the_event_type() {
        let opened = |fields: Value| {
            json!({"type": "record", "name": "Opened", "namespace": "bank.account",
                   "herald.event_type": "bank.account.opened", "fields": fields})
        };
        let closed = json!({"type": "record", "name": "Closed", "namespace": "bank.account",
                            "herald.event_type": "bank.account.closed", "fields": []});
        let writer = json!([
            opened(json!([{"name": "euros", "type": "long"}])),
            closed.clone()
        ]);
        let reader = json!([
            opened(json!([
                {"name": "cents", "type": "long", "aliases": ["euros"]},
                {"name": "currency", "type": "string"}
            ])),
            closed
        ]);
        let found = violations(reader, writer);
        assert_eq!(
            kinds_at(&found),
            [
                ("MISSING_UNION_BRANCH", "/0"),
                ("READER_FIELD_MISSING_DEFAULT_VALUE", "/0/fields/1"),
            ]
        );
        let message = &found[0].message;
        for part in [
            "field `currency` of record `bank.account.Opened`",
            "event type `bank.account.opened`",
            "has no default (at /0/fields/1)",
        ] {
            assert!(message.contains(part), "{part} not in {message}");
        }
        assert_eq!(found[0].hint, "give field `currency` a default");
        assert!(found[1].message.contains("bank.account.opened"));
    }

    #[test]
    fn named_types_match_by_unqualified_name_or_alias() {
        let named = |name: &str, namespace: &str, aliases: Value| {
            json!({"type": "record", "name": name, "namespace": namespace, "aliases": aliases,
                   "fields": [{"name": "a", "type": "int"}]})
        };
        // A namespace change alone keeps the unqualified name, which is what Java compares.
        assert!(violations(named("R", "x", json!([])), named("R", "y", json!([]))).is_empty());
        let found = violations(named("S", "x", json!([])), named("R", "x", json!([])));
        assert_eq!(kinds_at(&found), [("NAME_MISMATCH", "/name")]);
        assert!(found[0].hint.contains("`x.R`"), "{}", found[0].hint);
        // Aliases are full names; an unqualified alias takes the reader's namespace.
        assert!(violations(named("S", "x", json!(["R"])), named("R", "x", json!([]))).is_empty());
        assert!(violations(named("S", "x", json!(["y.R"])), named("R", "y", json!([]))).is_empty());
        assert_eq!(
            kinds_at(&violations(
                named("S", "x", json!(["R"])),
                named("R", "y", json!([]))
            )),
            [("NAME_MISMATCH", "/name")]
        );
        // Writer aliases do not count.
        assert!(
            !violations(named("S", "x", json!([])), named("R", "x", json!(["x.S"]))).is_empty()
        );
    }

    #[test]
    fn fixed_types_need_equal_size_and_name() {
        let fixed = |name: &str, size: u64| {
            record(json!([{"name": "id", "type": {"type": "fixed", "name": name, "size": size}}]))
        };
        assert!(violations(fixed("Id", 16), fixed("Id", 16)).is_empty());
        let found = violations(fixed("Id", 16), fixed("Id", 8));
        assert_eq!(
            kinds_at(&found),
            [("FIXED_SIZE_MISMATCH", "/fields/0/type/size")]
        );
        assert!(found[0].message.contains("16") && found[0].message.contains('8'));
        assert_eq!(
            kinds_at(&violations(fixed("Key", 8), fixed("Id", 16))),
            [
                ("NAME_MISMATCH", "/fields/0/type/name"),
                ("FIXED_SIZE_MISMATCH", "/fields/0/type/size"),
            ]
        );
    }

    #[test]
    fn logical_types_resolve_as_their_underlying_type() {
        let decimal = |scale: u64| json!({"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": scale});
        assert!(violations(decimal(2), json!("bytes")).is_empty());
        assert!(violations(decimal(2), decimal(3)).is_empty());
        assert!(
            violations(
                json!({"type": "long", "logicalType": "timestamp-millis"}),
                json!("int")
            )
            .is_empty()
        );
        assert_eq!(
            kinds_at(&violations(
                json!({"type": "int", "logicalType": "date"}),
                json!("long")
            )),
            [("TYPE_MISMATCH", "/")]
        );
    }

    #[test]
    fn recursive_records_terminate_and_report_once() {
        let list = |value: &str, extra: Value| {
            let mut fields = vec![
                json!({"name": "value", "type": value}),
                json!({"name": "next", "type": ["null", "Node"], "default": null}),
            ];
            if !extra.is_null() {
                fields.push(extra);
            }
            json!({"type": "record", "name": "Node", "fields": fields})
        };
        assert!(violations(list("long", Value::Null), list("int", Value::Null)).is_empty());
        let found = violations(
            list("int", json!({"name": "label", "type": "string"})),
            list("long", Value::Null),
        );
        assert_eq!(
            kinds_at(&found),
            [
                ("TYPE_MISMATCH", "/fields/0/type"),
                ("READER_FIELD_MISSING_DEFAULT_VALUE", "/fields/2"),
            ]
        );
    }

    #[test]
    fn mutually_recursive_records_terminate() {
        let tree = |leaf: &str| {
            json!({"type": "record", "name": "Tree", "fields": [
                {"name": "children", "type": {"type": "array", "items": {
                    "type": "record", "name": "Edge", "fields": [
                        {"name": "weight", "type": leaf},
                        {"name": "to", "type": "Tree"}
                    ]}}},
                {"name": "parent", "type": ["null", "Edge"], "default": null}
            ]})
        };
        assert!(violations(tree("double"), tree("float")).is_empty());
        // `Edge` is reported inside the array where it is first met; the union that holds it
        // again then has no branch that reads it (as Java reports too).
        assert_eq!(
            kinds_at(&violations(tree("float"), tree("double"))),
            [
                ("TYPE_MISMATCH", "/fields/0/type/items/fields/0/type"),
                ("MISSING_UNION_BRANCH", "/fields/1/type/1"),
            ]
        );
    }

    #[test]
    fn a_named_type_used_twice_is_reported_where_first_met() {
        let money = |amount: &str| json!({"type": "record", "name": "Money", "fields": [{"name": "amount", "type": amount}]});
        let reader = record(
            json!([{"name": "price", "type": money("int")}, {"name": "tax", "type": "Money"}]),
        );
        let writer = record(
            json!([{"name": "price", "type": money("long")}, {"name": "tax", "type": "Money"}]),
        );
        assert_eq!(
            kinds_at(&violations(reader, writer)),
            [("TYPE_MISMATCH", "/fields/0/type/fields/0/type")]
        );
    }

    #[test]
    fn deep_record_chains_stop_at_the_nesting_limit() {
        // A chain of records nested inline, deeper than the limit; parsed directly, so the
        // text limits of `Schema::parse` do not stop it first.
        fn chain(depth: usize, leaf: &str) -> Value {
            let mut ty = json!(leaf);
            for level in 0..depth {
                ty = json!({"type": "record", "name": format!("L{level}"),
                            "fields": [{"name": "inner", "type": ty}]});
            }
            ty
        }
        let depth = MAX_RECORD_NESTING as usize + 10;
        // Building and parsing the deep JSON needs a big stack in debug builds...
        let (reader, writer, shallow_reader, shallow_writer) = std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn(move || {
                (
                    schema(chain(depth, "long")),
                    schema(chain(depth, "int")),
                    schema(chain(50, "int")),
                    schema(chain(50, "long")),
                )
            })
            .unwrap()
            .join()
            .unwrap();
        // ...but the check itself stays within a default 2 MiB thread stack.
        let (found, shallow) = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                (
                    can_read(&reader, &writer),
                    can_read(&shallow_reader, &shallow_writer),
                )
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, "NESTING_TOO_DEEP");
        assert_eq!(kinds_at(&shallow).len(), 1);
        assert_eq!(shallow[0].kind, "TYPE_MISMATCH");
    }
}
