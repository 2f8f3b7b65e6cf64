//! Property tests of the Protobuf compatibility engine on generated `.proto` files:
//!
//! - every file has no difference from itself, however it is spelled (field order,
//!   qualified or relative type names, comments, whitespace);
//! - one generated change yields exactly the difference Confluent's rules name for it
//!   (the expected set is worked out here from the change, independently of the engine);
//! - a difference and its mirror: what is added from `a` to `b` is removed from `b` to `a`;
//! - the levels, at the level of differences (the registry's `check` maps them the same
//!   way): BACKWARD is "no incompatible difference from the old file to the new one",
//!   FORWARD the reverse, FULL both; every level holds for a file against itself, FULL is
//!   BACKWARD and FORWARD, and a transitive level is never more permissive.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod protobuf_compile;

use std::collections::BTreeSet;
use std::fmt::Write as _;

use herald_registry::schema::protobuf_differences;
use proptest::prelude::*;
use prost_reflect::FileDescriptor;

const SCALARS: [&str; 15] = [
    "int32", "int64", "uint32", "uint64", "bool", "sint32", "sint64", "string", "bytes", "fixed32",
    "sfixed32", "fixed64", "sfixed64", "float", "double",
];
/// The scalars a map key may have.
const MAP_KEYS: [&str; 12] = [
    "int32", "int64", "uint32", "uint64", "bool", "sint32", "sint64", "string", "fixed32",
    "sfixed32", "fixed64", "sfixed64",
];

/// The wire-compatibility group of a scalar, from the Protobuf language guide.
fn group(scalar: &str) -> u8 {
    match scalar {
        "int32" | "int64" | "uint32" | "uint64" | "bool" => 0,
        "sint32" | "sint64" => 1,
        "string" | "bytes" => 2,
        "fixed32" | "sfixed32" => 3,
        "fixed64" | "sfixed64" => 4,
        "float" => 5,
        _ => 6,
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Ty {
    Scalar(usize),
    /// The file's enum `E`.
    Enum,
    /// The top-level message `M<index>`.
    Message(usize),
    Map(usize, usize),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Label {
    Plain,
    Optional,
    Repeated,
}

#[derive(Debug, Clone)]
struct Field {
    number: u32,
    name: String,
    ty: Ty,
    label: Label,
}

#[derive(Debug, Clone)]
struct Message {
    fields: Vec<Field>,
    /// The members of oneof `choice` (absent when empty).
    oneof: Vec<Field>,
}

#[derive(Debug, Clone)]
struct Proto {
    messages: Vec<Message>,
    /// The numbers of enum `E`'s constants (0 always among them).
    constants: BTreeSet<u32>,
}

/// How a file is spelled; every style describes the same descriptors.
#[derive(Debug, Clone, Copy)]
struct Style {
    reverse_fields: bool,
    qualified: bool,
    comments: bool,
}

const PLAIN: Style = Style {
    reverse_fields: false,
    qualified: false,
    comments: false,
};

impl Ty {
    fn render(&self, style: Style) -> String {
        let prefix = if style.qualified { ".p." } else { "" };
        match self {
            Ty::Scalar(index) => SCALARS[*index].to_owned(),
            Ty::Enum => format!("{prefix}E"),
            Ty::Message(index) => format!("{prefix}M{index}"),
            Ty::Map(key, value) => format!("map<{}, {}>", MAP_KEYS[*key], SCALARS[*value]),
        }
    }
}

impl Field {
    fn render(&self, style: Style) -> String {
        let label = match self.label {
            Label::Plain => "",
            Label::Optional => "optional ",
            Label::Repeated => "repeated ",
        };
        let comment = if style.comments { " // a field" } else { "" };
        format!(
            "{label}{} {} = {};{comment}",
            self.ty.render(style),
            self.name,
            self.number
        )
    }
}

impl Proto {
    fn render(&self, style: Style) -> String {
        let mut out = String::from("syntax = \"proto3\";\npackage p;\n");
        if style.comments {
            out.push_str("/* generated\n   for a property test */\n");
        }
        out.push_str("enum E {");
        for number in &self.constants {
            write!(out, " V{number} = {number};").unwrap();
        }
        out.push_str(" }\n");
        for (index, message) in self.messages.iter().enumerate() {
            writeln!(out, "message M{index} {{").unwrap();
            let mut fields: Vec<&Field> = message.fields.iter().collect();
            if style.reverse_fields {
                fields.reverse();
            }
            for field in fields {
                writeln!(out, "  {}", field.render(style)).unwrap();
            }
            if !message.oneof.is_empty() {
                out.push_str("  oneof choice {\n");
                for field in &message.oneof {
                    writeln!(out, "    {}", field.render(style)).unwrap();
                }
                out.push_str("  }\n");
            }
            out.push_str("}\n");
        }
        out
    }

    fn compile(&self, style: Style) -> FileDescriptor {
        let text = self.render(style);
        protobuf_compile::compile(&text, &[]).unwrap_or_else(|err| panic!("{err}\n{text}"))
    }

    fn next_number(&self, message: usize) -> u32 {
        let message = &self.messages[message];
        message
            .fields
            .iter()
            .chain(&message.oneof)
            .map(|field| field.number)
            .max()
            .unwrap_or(0)
            + 1
    }
}

fn ty(messages: usize) -> impl Strategy<Value = Ty> {
    prop_oneof![
        4 => (0..SCALARS.len()).prop_map(Ty::Scalar),
        1 => Just(Ty::Enum),
        1 => (0..messages).prop_map(Ty::Message),
        1 => (0..MAP_KEYS.len(), 0..SCALARS.len()).prop_map(|(k, v)| Ty::Map(k, v)),
    ]
}

fn label() -> impl Strategy<Value = Label> {
    prop_oneof![
        Just(Label::Plain),
        Just(Label::Optional),
        Just(Label::Repeated)
    ]
}

/// A field as proto3 allows it: maps carry no label.
fn field(number: u32, ty: Ty, label: Label) -> Field {
    let label = if matches!(ty, Ty::Map(..)) {
        Label::Plain
    } else {
        label
    };
    Field {
        number,
        name: format!("f{number}"),
        ty,
        label,
    }
}

fn message(messages: usize) -> impl Strategy<Value = Message> {
    (
        prop::collection::btree_map(1u32..16, (ty(messages), label()), 1..6),
        prop::collection::btree_map(16u32..20, 0..SCALARS.len(), 0..3),
    )
        .prop_map(|(fields, oneof)| Message {
            fields: fields
                .into_iter()
                .map(|(number, (ty, label))| field(number, ty, label))
                .collect(),
            oneof: oneof
                .into_iter()
                .map(|(number, scalar)| field(number, Ty::Scalar(scalar), Label::Plain))
                .collect(),
        })
}

fn proto() -> impl Strategy<Value = Proto> {
    (1usize..4).prop_flat_map(|count| {
        (
            prop::collection::vec(message(count), count),
            prop::collection::btree_set(1u32..6, 0..3),
        )
            .prop_map(|(messages, mut constants)| {
                constants.insert(0);
                Proto {
                    messages,
                    constants,
                }
            })
    })
}

/// One change to a file; indexes are taken modulo what exists.
#[derive(Debug, Clone)]
enum Change {
    AddField(usize, Ty, Label),
    RemoveField(usize, usize),
    RenameField(usize, usize),
    Retype(usize, usize, usize),
    Relabel(usize, usize, Label),
    AddMessage,
    AddConstant(u32),
}

fn change() -> impl Strategy<Value = Change> {
    let at = || (0usize..4, 0usize..6);
    prop_oneof![
        1 => (0usize..4, ty(1), label()).prop_map(|(m, t, l)| Change::AddField(m, t, l)),
        1 => at().prop_map(|(m, f)| Change::RemoveField(m, f)),
        1 => at().prop_map(|(m, f)| Change::RenameField(m, f)),
        3 => (at(), 0..SCALARS.len()).prop_map(|((m, f), s)| Change::Retype(m, f, s)),
        2 => (at(), label()).prop_map(|((m, f), l)| Change::Relabel(m, f, l)),
        1 => Just(Change::AddMessage),
        1 => (1u32..8).prop_map(Change::AddConstant),
    ]
}

/// `proto` with `change` applied, and the differences Confluent's rules give for it.
fn apply(proto: &Proto, change: &Change) -> (Proto, BTreeSet<String>) {
    let mut next = proto.clone();
    let mut expected = BTreeSet::new();
    let count = proto.messages.len();
    match change {
        Change::AddField(m, ty, label) => {
            let m = m % count;
            let number = proto.next_number(m);
            let ty = match ty {
                Ty::Message(_) => Ty::Message(m),
                other => other.clone(),
            };
            next.messages[m].fields.push(field(number, ty, *label));
            expected.insert(format!("FIELD_ADDED #/M{m}/{number}"));
        }
        Change::AddMessage => {
            next.messages.push(Message {
                fields: vec![field(1, Ty::Scalar(0), Label::Plain)],
                oneof: Vec::new(),
            });
            expected.insert(format!("MESSAGE_ADDED #/M{count}"));
        }
        Change::AddConstant(number) => {
            if next.constants.insert(*number) {
                expected.insert(format!("ENUM_CONST_ADDED #/E/{number}"));
            }
        }
        Change::RemoveField(m, f)
        | Change::RenameField(m, f)
        | Change::Retype(m, f, _)
        | Change::Relabel(m, f, _) => {
            let m = m % count;
            let fields = &mut next.messages[m].fields;
            if fields.is_empty() {
                return (next, expected);
            }
            let f = f % fields.len();
            let at = format!("#/M{m}/{}", fields[f].number);
            match change {
                Change::RemoveField(..) => {
                    fields.remove(f);
                    expected.insert(format!("FIELD_REMOVED {at}"));
                }
                Change::RenameField(..) => {
                    fields[f].name = format!("renamed{}", fields[f].number);
                    expected.insert(format!("FIELD_NAME_CHANGED {at}"));
                }
                Change::Retype(_, _, scalar) => {
                    if let Ty::Scalar(was) = fields[f].ty {
                        fields[f].ty = Ty::Scalar(*scalar);
                        if group(SCALARS[was]) != group(SCALARS[*scalar]) {
                            expected.insert(format!("FIELD_SCALAR_KIND_CHANGED {at}"));
                        }
                    }
                }
                Change::Relabel(_, _, label) => {
                    let was = fields[f].label;
                    if !matches!(fields[f].ty, Ty::Map(..)) && was != *label {
                        fields[f].label = *label;
                        // Only labels written on both sides count, and only for scalars.
                        let written = was != Label::Plain && *label != Label::Plain;
                        match &fields[f].ty {
                            Ty::Scalar(s) if written && group(SCALARS[*s]) == 2 => {
                                expected
                                    .insert(format!("FIELD_STRING_OR_BYTES_LABEL_CHANGED {at}"));
                            }
                            Ty::Scalar(_) | Ty::Enum if written => {
                                expected.insert(format!("FIELD_NUMERIC_LABEL_CHANGED {at}"));
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
    }
    (next, expected)
}

fn rendered(differences: &[herald_registry::schema::Difference]) -> BTreeSet<String> {
    differences.iter().map(ToString::to_string).collect()
}

/// No incompatible difference from `writer` to `reader`: `reader` reads `writer`'s data.
fn reads(reader: &FileDescriptor, writer: &FileDescriptor) -> bool {
    protobuf_differences(writer, reader)
        .iter()
        .all(|difference| difference.compatible)
}

#[derive(Debug, Clone, Copy)]
enum Level {
    None,
    Backward,
    Forward,
    Full,
    BackwardTransitive,
    ForwardTransitive,
    FullTransitive,
}

const LEVELS: [Level; 7] = [
    Level::None,
    Level::Backward,
    Level::Forward,
    Level::Full,
    Level::BackwardTransitive,
    Level::ForwardTransitive,
    Level::FullTransitive,
];

/// Whether `new` passes `level` against `previous` (oldest first), as `check` decides it.
fn passes(level: Level, new: &FileDescriptor, previous: &[FileDescriptor]) -> bool {
    let (backward, forward, transitive) = match level {
        Level::None => return true,
        Level::Backward => (true, false, false),
        Level::Forward => (false, true, false),
        Level::Full => (true, true, false),
        Level::BackwardTransitive => (true, false, true),
        Level::ForwardTransitive => (false, true, true),
        Level::FullTransitive => (true, true, true),
    };
    let against = if transitive {
        previous
    } else {
        previous.last().map(std::slice::from_ref).unwrap_or(&[])
    };
    against
        .iter()
        .all(|old| (!backward || reads(new, old)) && (!forward || reads(old, new)))
}

/// The kind a difference shows when the two files swap places, for kinds that have one.
fn mirror(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "FIELD_ADDED" => "FIELD_REMOVED",
        "FIELD_REMOVED" => "FIELD_ADDED",
        "MESSAGE_ADDED" => "MESSAGE_REMOVED",
        "MESSAGE_REMOVED" => "MESSAGE_ADDED",
        "ENUM_CONST_ADDED" => "ENUM_CONST_REMOVED",
        "ENUM_CONST_REMOVED" => "ENUM_CONST_ADDED",
        "FIELD_NAME_CHANGED" => "FIELD_NAME_CHANGED",
        "FIELD_SCALAR_KIND_CHANGED" => "FIELD_SCALAR_KIND_CHANGED",
        "FIELD_KIND_CHANGED" => "FIELD_KIND_CHANGED",
        "FIELD_NUMERIC_LABEL_CHANGED" => "FIELD_NUMERIC_LABEL_CHANGED",
        "FIELD_STRING_OR_BYTES_LABEL_CHANGED" => "FIELD_STRING_OR_BYTES_LABEL_CHANGED",
        _ => return None,
    })
}

fn history(base: &Proto, changes: &[Change]) -> Vec<FileDescriptor> {
    let mut protos = vec![base.clone()];
    for change in changes {
        let next = apply(protos.last().unwrap_or(base), change).0;
        protos.push(next);
    }
    protos.iter().map(|proto| proto.compile(PLAIN)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_file_has_no_difference_from_itself_however_spelled(
        proto in proto(),
        reverse_fields: bool,
        qualified: bool,
        comments: bool,
    ) {
        let plain = proto.compile(PLAIN);
        let styled = proto.compile(Style { reverse_fields, qualified, comments });
        prop_assert!(protobuf_differences(&plain, &plain).is_empty());
        let found = rendered(&protobuf_differences(&plain, &styled));
        prop_assert!(found.is_empty(), "{found:?}\n{}", proto.render(PLAIN));
        for level in LEVELS {
            prop_assert!(passes(level, &styled, &[plain.clone(), plain.clone()]), "{level:?}");
        }
    }

    #[test]
    fn one_change_yields_the_difference_named_for_it(proto in proto(), change in change()) {
        let (next, expected) = apply(&proto, &change);
        let found = rendered(&protobuf_differences(&proto.compile(PLAIN), &next.compile(PLAIN)));
        prop_assert_eq!(&found, &expected, "{:?}\n{}", change, proto.render(PLAIN));
    }

    #[test]
    fn differences_mirror_when_the_files_swap(
        proto in proto(),
        changes in prop::collection::vec(change(), 1..4),
    ) {
        let versions = history(&proto, &changes);
        let (a, b) = (&versions[0], &versions[versions.len() - 1]);
        let back = rendered(&protobuf_differences(b, a));
        for difference in protobuf_differences(a, b) {
            if let Some(kind) = mirror(&difference.kind) {
                let mirrored = format!("{kind} {}", difference.location);
                prop_assert!(back.contains(&mirrored), "{difference} without {mirrored}: {back:?}");
            }
        }
    }

    #[test]
    fn levels_compose(proto in proto(), changes in prop::collection::vec(change(), 1..4)) {
        use Level::*;
        let versions = history(&proto, &changes);
        let (new, previous) = versions.split_last().unwrap();
        let ok = |level| passes(level, new, previous);
        prop_assert_eq!(ok(Full), ok(Backward) && ok(Forward));
        prop_assert_eq!(ok(FullTransitive), ok(BackwardTransitive) && ok(ForwardTransitive));
        for (transitive, single) in [
            (BackwardTransitive, Backward),
            (ForwardTransitive, Forward),
            (FullTransitive, Full),
        ] {
            prop_assert!(!ok(transitive) || ok(single), "{transitive:?} passed but {single:?} failed");
        }
        prop_assert!(ok(None));
    }
}

/// The generators must produce both compatible and incompatible pairs, or the tests above
/// prove little.
#[test]
fn generated_changes_exercise_both_verdicts() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let mut runner = TestRunner::deterministic();
    let mut compatible = 0;
    for _ in 0..200 {
        let base = proto().new_tree(&mut runner).unwrap().current();
        let change = change().new_tree(&mut runner).unwrap().current();
        let (next, _) = apply(&base, &change);
        if reads(&next.compile(PLAIN), &base.compile(PLAIN)) {
            compatible += 1;
        }
    }
    assert!(compatible > 20, "only {compatible} compatible pairs");
    assert!(
        200 - compatible > 20,
        "only {} incompatible pairs",
        200 - compatible
    );
}
