//! The walk over two files side by side, in the order and with the paths of Confluent's
//! `SchemaDiff`: the package, then the messages and enums of each scope matched by simple
//! name. Messages are compared in [`super::message`], fields in [`super::field`].

use std::collections::HashMap;
use std::fmt::Write as _;

use prost_reflect::{EnumDescriptor, FileDescriptor, MessageDescriptor};

use super::kinds::Kind;

/// One step of a location: a message, enum or oneof name, or a field or constant number.
/// Numbers stay numbers until a location is written: most fields differ in nothing.
#[derive(Debug, Clone)]
pub(super) enum Segment {
    Name(String),
    Number(i64),
}

impl std::fmt::Display for Segment {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Segment::Name(name) => formatter.write_str(name),
            Segment::Number(number) => write!(formatter, "{number}"),
        }
    }
}

impl From<String> for Segment {
    fn from(name: String) -> Self {
        Segment::Name(name)
    }
}

impl From<&str> for Segment {
    fn from(name: &str) -> Self {
        Segment::Name(name.to_owned())
    }
}

impl From<u32> for Segment {
    fn from(number: u32) -> Self {
        Segment::Number(number.into())
    }
}

impl From<i32> for Segment {
    fn from(number: i32) -> Self {
        Segment::Number(number.into())
    }
}

/// One difference, at a path of message names, oneof names and numbers.
#[derive(Debug, Clone)]
pub(super) struct Found {
    pub(super) kind: Kind,
    pub(super) path: Vec<Segment>,
    /// What changed, where the kind alone does not say (e.g. `` `int32` → `string` ``).
    pub(super) detail: Option<String>,
}

impl Found {
    /// The location as Confluent writes it, e.g. `#/Order/3`.
    pub(super) fn location(&self) -> String {
        let mut location = String::from("#/");
        for (index, segment) in self.path.iter().enumerate() {
            let separator = if index == 0 { "" } else { "/" };
            // Writing to a String cannot fail.
            let _ = write!(location, "{separator}{segment}");
        }
        location
    }
}

/// The state of one comparison from `original` to `update`.
pub(super) struct Differ<'a> {
    /// The files being compared: types defined elsewhere are references.
    pub(super) roots: (&'a str, &'a str),
    pub(super) path: Vec<Segment>,
    /// Original messages whose fields are being compared, outermost first: a referenced
    /// type that refers back to one of them is not followed again (Confluent's guard).
    pub(super) active: Vec<String>,
    /// Pairs of referenced messages already followed, and whether they were incompatible.
    /// Their differences are reported once: the path of a referenced type does not depend
    /// on where it is used.
    pub(super) followed: HashMap<(String, String), bool>,
    pub(super) found: Vec<Found>,
}

/// The messages and enums declared directly in one scope, in declaration order. Map entries
/// and groups are left out: in the `.proto` text Confluent compares they are not types.
struct Scope {
    messages: Vec<MessageDescriptor>,
    enums: Vec<EnumDescriptor>,
}

impl Scope {
    fn of_file(file: &FileDescriptor) -> Scope {
        Scope {
            messages: file.messages().collect(),
            enums: file.enums().collect(),
        }
    }

    fn of_message(message: &MessageDescriptor) -> Scope {
        let groups: Vec<String> = message
            .fields()
            .filter(|field| field.is_group())
            .filter_map(|field| field.kind().as_message().map(|m| m.full_name().to_owned()))
            .collect();
        Scope {
            messages: message
                .child_messages()
                .filter(|child| !child.is_map_entry())
                .filter(|child| !groups.iter().any(|group| group == child.full_name()))
                .collect(),
            enums: message.child_enums().collect(),
        }
    }
}

/// The names of `original` then those only in `update`, each with its position on either side.
fn union<T>(
    original: &[T],
    update: &[T],
    name: impl Fn(&T) -> &str,
) -> Vec<(String, Option<usize>, Option<usize>)> {
    let in_update: HashMap<&str, usize> = update
        .iter()
        .enumerate()
        .map(|(index, item)| (name(item), index))
        .collect();
    let in_original: HashMap<&str, usize> = original
        .iter()
        .enumerate()
        .map(|(index, item)| (name(item), index))
        .collect();
    let mut names: Vec<(String, Option<usize>, Option<usize>)> = original
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let name = name(item);
            (name.to_owned(), Some(index), in_update.get(name).copied())
        })
        .collect();
    names.extend(update.iter().enumerate().filter_map(|(index, item)| {
        let name = name(item);
        (!in_original.contains_key(name)).then(|| (name.to_owned(), None, Some(index)))
    }));
    names
}

/// Every difference from `original` to `update`, in the order found: the package, then
/// every type.
pub(super) fn differences(original: &FileDescriptor, update: &FileDescriptor) -> Vec<Found> {
    let mut differ = Differ {
        roots: (original.name(), update.name()),
        path: Vec::new(),
        active: Vec::new(),
        followed: HashMap::new(),
        found: Vec::new(),
    };
    if original.package_name() != update.package_name() {
        let detail = format!(
            "`{}` → `{}`",
            original.package_name(),
            update.package_name()
        );
        differ.push_detail(Kind::PACKAGE_CHANGED, detail);
    }
    differ.compare_scopes(&Scope::of_file(original), &Scope::of_file(update));
    differ.found
}

impl Differ<'_> {
    pub(super) fn push(&mut self, kind: Kind) {
        self.found.push(Found {
            kind,
            path: self.path.clone(),
            detail: None,
        });
    }

    pub(super) fn push_detail(&mut self, kind: Kind, detail: String) {
        self.found.push(Found {
            kind,
            path: self.path.clone(),
            detail: Some(detail),
        });
    }

    /// Runs `f` with `segment` appended to the path.
    pub(super) fn at(&mut self, segment: impl Into<Segment>, f: impl FnOnce(&mut Self)) {
        self.path.push(segment.into());
        f(self);
        self.path.pop();
    }

    /// Compares the messages and enums declared in one scope, matched by simple name. A
    /// message at another position among its siblings is `MESSAGE_MOVED` (compatible:
    /// message indexes in the wire format refer to the writer's schema).
    fn compare_scopes(&mut self, original: &Scope, update: &Scope) {
        for (name, was, is) in union(&original.messages, &update.messages, |m| m.name()) {
            self.at(name, |differ| match (was, is) {
                (Some(was), Some(is)) => {
                    differ.compare_message(&original.messages[was], &update.messages[is]);
                    if was != is {
                        differ.push(Kind::MESSAGE_MOVED);
                    }
                }
                (Some(_), None) => differ.push(Kind::MESSAGE_REMOVED),
                (None, _) => differ.push(Kind::MESSAGE_ADDED),
            });
        }
        for (name, was, is) in union(&original.enums, &update.enums, |e| e.name()) {
            self.at(name, |differ| match (was, is) {
                (Some(was), Some(is)) => {
                    differ.compare_enum(&original.enums[was], &update.enums[is])
                }
                (Some(_), None) => differ.push(Kind::ENUM_REMOVED),
                (None, _) => differ.push(Kind::ENUM_ADDED),
            });
        }
    }

    /// Compares the nested types of two messages of the same name.
    pub(super) fn compare_nested(
        &mut self,
        original: &MessageDescriptor,
        update: &MessageDescriptor,
    ) {
        self.compare_scopes(&Scope::of_message(original), &Scope::of_message(update));
    }

    /// Compares enum constants by number; with aliases the last constant of a number counts.
    fn compare_enum(&mut self, original: &EnumDescriptor, update: &EnumDescriptor) {
        let by_number = |e: &EnumDescriptor| -> std::collections::BTreeMap<i32, String> {
            e.values()
                .map(|value| (value.number(), value.name().to_owned()))
                .collect()
        };
        let (original, update) = (by_number(original), by_number(update));
        let mut numbers: Vec<i32> = original.keys().chain(update.keys()).copied().collect();
        numbers.sort_unstable();
        numbers.dedup();
        for number in numbers {
            self.at(number, |differ| {
                match (original.get(&number), update.get(&number)) {
                    (Some(_), None) => differ.push(Kind::ENUM_CONST_REMOVED),
                    (None, Some(_)) => differ.push(Kind::ENUM_CONST_ADDED),
                    (Some(was), Some(is)) if was != is => {
                        differ.push_detail(Kind::ENUM_CONST_CHANGED, format!("`{was}` → `{is}`"))
                    }
                    _ => {}
                }
            });
        }
    }
}
