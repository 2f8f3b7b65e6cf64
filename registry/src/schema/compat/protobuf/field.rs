//! Comparing two fields of the same number the way Confluent's `FieldSchemaDiff` does: by
//! name, by the shape of their types (a scalar in one of the wire-compatibility groups, a
//! message, or a map), and for scalars by the label as written in the `.proto` text.

use std::borrow::Cow;

use prost_reflect::{Cardinality, FieldDescriptor, Kind as Type, MessageDescriptor, Syntax};

use super::differ::{Differ, Segment};
use super::kinds::Kind;

/// A field's label as written in the source, where Confluent compares labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Label {
    Optional,
    Required,
    Repeated,
}

impl Label {
    /// The label the field was written with: none for a proto3 field without `optional`, a
    /// member of a oneof, or a map (the forms that carry no label keyword).
    pub(super) fn of(field: &FieldDescriptor) -> Option<Label> {
        let oneof = field.containing_oneof();
        if oneof.as_ref().is_some_and(|oneof| !oneof.is_synthetic()) {
            return None;
        }
        match field.cardinality() {
            Cardinality::Repeated => (!field.is_map()).then_some(Label::Repeated),
            Cardinality::Required => Some(Label::Required),
            // A synthetic oneof holds exactly one proto3 `optional` field.
            Cardinality::Optional => (oneof.is_some()
                || field.parent_file().syntax() == Syntax::Proto2)
                .then_some(Label::Optional),
        }
    }

    pub(super) fn as_str(self) -> &'static str {
        match self {
            Label::Optional => "optional",
            Label::Required => "required",
            Label::Repeated => "repeated",
        }
    }
}

/// The scalar groups whose members share a wire encoding and so may replace each other
/// (<https://protobuf.dev/programming-guides/proto3/#updating>); enums are numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ScalarGroup {
    GeneralNumber,
    SignedNumber,
    StringOrBytes,
    Fixed32,
    Fixed64,
    Float,
    Double,
}

impl ScalarGroup {
    /// Whether Confluent reports a label change in this group as numeric.
    pub(super) fn is_numeric(self) -> bool {
        self != ScalarGroup::StringOrBytes
    }
}

/// The shape of a field's type, as Confluent classifies it.
#[derive(Debug, Clone)]
pub(super) enum Shape {
    /// A scalar or an enum, with its group and its name as written.
    Scalar(ScalarGroup, Cow<'static, str>),
    Message(MessageDescriptor),
    Map(Box<Shape>, Box<Shape>),
}

impl Shape {
    pub(super) fn of(field: &FieldDescriptor) -> Shape {
        use ScalarGroup::*;
        let (group, name) = match field.kind() {
            Type::Message(entry) if field.is_map() => {
                return Shape::Map(
                    Box::new(Shape::of(&entry.map_entry_key_field())),
                    Box::new(Shape::of(&entry.map_entry_value_field())),
                );
            }
            Type::Message(message) => return Shape::Message(message),
            Type::Enum(found) => {
                return Shape::Scalar(GeneralNumber, Cow::Owned(found.full_name().to_owned()));
            }
            Type::Int32 => (GeneralNumber, "int32"),
            Type::Int64 => (GeneralNumber, "int64"),
            Type::Uint32 => (GeneralNumber, "uint32"),
            Type::Uint64 => (GeneralNumber, "uint64"),
            Type::Bool => (GeneralNumber, "bool"),
            Type::Sint32 => (SignedNumber, "sint32"),
            Type::Sint64 => (SignedNumber, "sint64"),
            Type::String => (StringOrBytes, "string"),
            Type::Bytes => (StringOrBytes, "bytes"),
            Type::Fixed32 => (Fixed32, "fixed32"),
            Type::Sfixed32 => (Fixed32, "sfixed32"),
            Type::Fixed64 => (Fixed64, "fixed64"),
            Type::Sfixed64 => (Fixed64, "sfixed64"),
            Type::Float => (Float, "float"),
            Type::Double => (Double, "double"),
        };
        Shape::Scalar(group, Cow::Borrowed(name))
    }

    /// Whether both are scalars, both messages or both maps.
    pub(super) fn same_kind(&self, other: &Shape) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }

    /// The type as a `.proto` file would spell it.
    pub(super) fn describe(&self) -> String {
        match self {
            Shape::Scalar(_, name) => name.to_string(),
            Shape::Message(message) => message.full_name().to_owned(),
            Shape::Map(key, value) => format!("map<{}, {}>", key.describe(), value.describe()),
        }
    }
}

impl Differ<'_> {
    /// Compares two fields of the same number, at the current path.
    pub(super) fn compare_field(&mut self, original: &FieldDescriptor, update: &FieldDescriptor) {
        if original.name() != update.name() {
            let detail = format!("`{}` → `{}`", original.name(), update.name());
            self.push_detail(Kind::FIELD_NAME_CHANGED, detail);
        }
        self.compare_shapes(
            (Label::of(original), &Shape::of(original)),
            (Label::of(update), &Shape::of(update)),
        );
    }

    fn compare_shapes(
        &mut self,
        (original_label, original): (Option<Label>, &Shape),
        (update_label, update): (Option<Label>, &Shape),
    ) {
        if !original.same_kind(update) {
            let detail = format!("`{}` → `{}`", original.describe(), update.describe());
            self.push_detail(Kind::FIELD_KIND_CHANGED, detail);
            return;
        }
        match (original, update) {
            (Shape::Scalar(was, _), Shape::Scalar(is, _)) if was != is => {
                let detail = format!("`{}` → `{}`", original.describe(), update.describe());
                self.push_detail(Kind::FIELD_SCALAR_KIND_CHANGED, detail);
            }
            (Shape::Scalar(group, _), Shape::Scalar(..)) => {
                // Only labels written on both sides are compared.
                if let (Some(was), Some(is)) = (original_label, update_label)
                    && was != is
                {
                    let kind = if group.is_numeric() {
                        Kind::FIELD_NUMERIC_LABEL_CHANGED
                    } else {
                        Kind::FIELD_STRING_OR_BYTES_LABEL_CHANGED
                    };
                    self.push_detail(kind, format!("`{}` → `{}`", was.as_str(), is.as_str()));
                }
            }
            (Shape::Message(was), Shape::Message(is)) => self.compare_message_types(was, is),
            (Shape::Map(was_key, was_value), Shape::Map(is_key, is_value)) => {
                self.compare_shapes((None, was_key), (None, is_key));
                self.compare_shapes((None, was_value), (None, is_value));
            }
            _ => {}
        }
    }

    /// Message-typed fields: the types must have the same name below their package. Types
    /// of the compared files themselves are compared where they are declared; a referenced
    /// type (from an imported file) is compared here, at its own path, and any incompatible
    /// change in it makes the field `FIELD_NAMED_TYPE_CHANGED` as well.
    fn compare_message_types(&mut self, original: &MessageDescriptor, update: &MessageDescriptor) {
        let (original_name, update_name) = (local_name(original), local_name(update));
        if original_name != update_name {
            let detail = format!("`{}` → `{}`", original.full_name(), update.full_name());
            self.push_detail(Kind::FIELD_NAMED_TYPE_CHANGED, detail);
            return;
        }
        let local = original.parent_file().name() == self.roots.0
            && update.parent_file().name() == self.roots.1;
        if local {
            return;
        }
        let key = (
            original.full_name().to_owned(),
            update.full_name().to_owned(),
        );
        let incompatible = match self.followed.get(&key) {
            Some(&incompatible) => incompatible,
            None => {
                let here = std::mem::replace(
                    &mut self.path,
                    original_name.split('.').map(Segment::from).collect(),
                );
                let start = self.found.len();
                self.compare_message(original, update);
                self.path = here;
                let incompatible = self.found[start..]
                    .iter()
                    .any(|found| !found.kind.is_compatible());
                self.followed.insert(key, incompatible);
                incompatible
            }
        };
        if incompatible {
            let detail = format!("`{}` changed incompatibly", original.full_name());
            self.push_detail(Kind::FIELD_NAMED_TYPE_CHANGED, detail);
        }
    }
}

/// A message's name below its package, e.g. `Outer.Inner`.
fn local_name(message: &MessageDescriptor) -> &str {
    let (full, package) = (message.full_name(), message.package_name());
    full.strip_prefix(package)
        .and_then(|rest| rest.strip_prefix('.'))
        .filter(|_| !package.is_empty())
        .unwrap_or(full)
}
