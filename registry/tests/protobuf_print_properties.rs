//! Property tests of the Protobuf printer on generated `.proto` files (proto2 and proto3,
//! nested messages, enums, oneofs, maps, labels):
//!
//! - the stored print and the normalized print do not change with whitespace and comments;
//! - print → parse → print is a fixed point, for both prints.

#![allow(clippy::panic, clippy::unwrap_used)]

use herald_registry::schema::{Schema, SchemaType};
use proptest::prelude::*;

const SCALARS: [&str; 15] = [
    "double", "float", "int64", "uint64", "int32", "fixed64", "fixed32", "bool", "string", "bytes",
    "uint32", "sfixed32", "sfixed64", "sint32", "sint64",
];
const MAP_KEYS: [&str; 4] = ["string", "int32", "uint64", "bool"];

#[derive(Debug, Clone)]
enum Ty {
    Scalar(usize),
    Map(usize, usize),
    /// The top-level enum `Color`.
    Color,
    /// The top-level message `Leaf`.
    Leaf,
}

#[derive(Debug, Clone)]
struct Field {
    /// 0: none (proto3) / optional (proto2), 1: optional, 2: repeated.
    label: u8,
    ty: Ty,
}

#[derive(Debug, Clone)]
struct Message {
    fields: Vec<Field>,
    oneof: Vec<Ty>,
    nested: Vec<Message>,
    reserved: bool,
}

#[derive(Debug, Clone)]
struct File {
    proto3: bool,
    package: bool,
    messages: Vec<Message>,
}

/// How a file is spelled: indentation, line breaks, spacing and comments.
#[derive(Debug, Clone)]
struct Style {
    indent: &'static str,
    newline: &'static str,
    space: &'static str,
    comments: bool,
}

fn ty() -> impl Strategy<Value = Ty> {
    prop_oneof![
        4 => (0..SCALARS.len()).prop_map(Ty::Scalar),
        1 => (0..MAP_KEYS.len(), 0..SCALARS.len()).prop_map(|(k, v)| Ty::Map(k, v)),
        1 => Just(Ty::Color),
        1 => Just(Ty::Leaf),
    ]
}

fn field() -> impl Strategy<Value = Field> {
    (0u8..3, ty()).prop_map(|(label, ty)| Field { label, ty })
}

fn message() -> impl Strategy<Value = Message> {
    let leaf = (
        prop::collection::vec(field(), 0..6),
        prop::collection::vec(
            ty().prop_filter("no maps in oneofs", |t| !matches!(t, Ty::Map(..))),
            0..3,
        ),
        any::<bool>(),
    )
        .prop_map(|(fields, oneof, reserved)| Message {
            fields,
            oneof,
            nested: Vec::new(),
            reserved,
        });
    leaf.prop_recursive(2, 8, 3, |inner| {
        (
            prop::collection::vec(field(), 0..5),
            prop::collection::vec(
                ty().prop_filter("no maps in oneofs", |t| !matches!(t, Ty::Map(..))),
                0..3,
            ),
            prop::collection::vec(inner, 0..3),
            any::<bool>(),
        )
            .prop_map(|(fields, oneof, nested, reserved)| Message {
                fields,
                oneof,
                nested,
                reserved,
            })
    })
}

fn file() -> impl Strategy<Value = File> {
    (
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(message(), 1..4),
    )
        .prop_map(|(proto3, package, messages)| File {
            proto3,
            package,
            messages,
        })
}

fn style() -> impl Strategy<Value = Style> {
    (
        prop_oneof![Just("  "), Just("    "), Just("\t"), Just("")],
        prop_oneof![Just("\n"), Just("\n\n"), Just(" "), Just("\r\n")],
        prop_oneof![Just(" "), Just("  "), Just("\t")],
        any::<bool>(),
    )
        .prop_map(|(indent, newline, space, comments)| Style {
            indent,
            newline,
            space,
            comments,
        })
}

struct Writer<'a> {
    style: &'a Style,
    out: String,
    proto3: bool,
}

impl Writer<'_> {
    fn line(&mut self, depth: usize, text: &str) {
        self.out.push_str(&self.style.indent.repeat(depth));
        self.out.push_str(&text.replace(' ', self.style.space));
        if self.style.comments {
            self.out.push_str(" /* c */");
        }
        self.out.push_str(self.style.newline);
        if self.style.comments {
            self.out.push_str("// a comment { with braces\n");
        }
    }

    fn type_name(ty: &Ty) -> String {
        match ty {
            Ty::Scalar(i) => SCALARS[*i].to_owned(),
            Ty::Map(k, v) => format!("map<{}, {}>", MAP_KEYS[*k], SCALARS[*v]),
            Ty::Color => "Color".to_owned(),
            Ty::Leaf => "Leaf".to_owned(),
        }
    }

    fn message(&mut self, depth: usize, name: &str, message: &Message) {
        self.line(depth, &format!("message {name} {{"));
        let mut number = 1;
        if message.reserved {
            self.line(depth + 1, "reserved 1000 to 1009, 2000;");
            self.line(depth + 1, "reserved \"gone\";");
        }
        for field in &message.fields {
            let map = matches!(field.ty, Ty::Map(..));
            let label = match (map, field.label, self.proto3) {
                (true, _, _) => "",
                (false, 2, _) => "repeated ",
                (false, 1, _) => "optional ",
                (false, _, true) => "",
                (false, _, false) => "optional ",
            };
            let ty = Self::type_name(&field.ty);
            self.line(depth + 1, &format!("{label}{ty} f{number} = {number};"));
            number += 1;
        }
        if !message.oneof.is_empty() {
            self.line(depth + 1, "oneof choice {");
            for ty in &message.oneof {
                let ty = Self::type_name(ty);
                self.line(depth + 2, &format!("{ty} o{number} = {number};"));
                number += 1;
            }
            self.line(depth + 1, "}");
        }
        for (index, nested) in message.nested.iter().enumerate() {
            self.message(depth + 1, &format!("N{index}"), nested);
        }
        self.line(depth, "}");
    }
}

fn render(file: &File, style: &Style) -> String {
    let mut writer = Writer {
        style,
        out: String::new(),
        proto3: file.proto3,
    };
    let syntax = if file.proto3 { "proto3" } else { "proto2" };
    writer.line(0, &format!("syntax = \"{syntax}\";"));
    if file.package {
        writer.line(0, "package gen.v1;");
    }
    writer.line(0, "enum Color { RED = 0; GREEN = 2; BLUE = 1; }");
    let label = if file.proto3 { "" } else { "optional " };
    writer.line(0, &format!("message Leaf {{ {label}string id = 1; }}"));
    for (index, message) in file.messages.iter().enumerate() {
        writer.message(0, &format!("M{index}"), message);
    }
    writer.out
}

fn parse(text: &str) -> Schema {
    Schema::parse(SchemaType::Protobuf, text).unwrap_or_else(|err| panic!("{err}\n{text}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn printing_ignores_whitespace_and_comments(file in file(), a in style(), b in style()) {
        let (one, two) = (parse(&render(&file, &a)), parse(&render(&file, &b)));
        prop_assert_eq!(one.protobuf_text(), two.protobuf_text());
        prop_assert_eq!(one.canonical(), two.canonical());
        prop_assert_eq!(one.fingerprint(), two.fingerprint());
    }

    #[test]
    fn print_parse_print_is_a_fixed_point(file in file(), style in style()) {
        let schema = parse(&render(&file, &style));
        let printed = schema.protobuf_text().unwrap();
        let again = parse(printed);
        prop_assert_eq!(again.protobuf_text().unwrap(), printed);
        prop_assert_eq!(again.canonical(), schema.canonical());
        let normalized = parse(schema.canonical());
        prop_assert_eq!(normalized.canonical(), schema.canonical());
    }
}
