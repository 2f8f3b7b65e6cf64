//! Comparing two messages of the same name the way Confluent's `MessageSchemaDiff` does:
//! every field matched by number across the whole message, whatever oneof it sits in, so
//! that moving fields between oneofs cannot hide a change of type or a removal.

use std::collections::{BTreeSet, HashMap, HashSet};

use prost_reflect::{FieldDescriptor, MessageDescriptor};

use super::differ::Differ;
use super::field::Label;
use super::kinds::Kind;

/// The fields of a message by number, and the real (not synthetic) oneofs they sit in.
struct Fields {
    /// Sorted by number.
    by_number: Vec<(u32, FieldDescriptor)>,
    oneof_of: HashMap<u32, String>,
    /// Each oneof's name and member numbers, in declaration order.
    oneofs: Vec<(String, Vec<u32>)>,
}

impl Fields {
    fn of(message: &MessageDescriptor) -> Fields {
        let mut fields = Fields {
            by_number: Vec::new(),
            oneof_of: HashMap::new(),
            oneofs: Vec::new(),
        };
        // Groups are not fields in the `.proto` text Confluent compares.
        for field in message.fields().filter(|field| !field.is_group()) {
            if let Some(oneof) = field.containing_oneof().filter(|o| !o.is_synthetic()) {
                fields
                    .oneof_of
                    .insert(field.number(), oneof.name().to_owned());
            }
            fields.by_number.push((field.number(), field));
        }
        fields.by_number.sort_unstable_by_key(|(number, _)| *number);
        for oneof in message.oneofs().filter(|oneof| !oneof.is_synthetic()) {
            let members = oneof
                .fields()
                .filter(|field| !field.is_group())
                .map(|field| field.number())
                .collect();
            fields.oneofs.push((oneof.name().to_owned(), members));
        }
        fields
    }

    fn get(&self, number: u32) -> Option<&FieldDescriptor> {
        self.by_number
            .binary_search_by_key(&number, |(number, _)| *number)
            .ok()
            .and_then(|index| self.by_number.get(index))
            .map(|(_, field)| field)
    }

    fn contains(&self, number: u32) -> bool {
        self.get(number).is_some()
    }

    fn has_oneof(&self, name: &str) -> bool {
        self.oneofs.iter().any(|(oneof, _)| oneof == name)
    }
}

impl Differ<'_> {
    /// Compares the fields of two messages of the same name (unless the original is already
    /// being compared further up, through a reference back to it), then their nested types.
    pub(super) fn compare_message(
        &mut self,
        original: &MessageDescriptor,
        update: &MessageDescriptor,
    ) {
        let full_name = original.full_name();
        if !self.active.iter().any(|active| active == full_name) {
            self.active.push(full_name.to_owned());
            self.compare_fields(&Fields::of(original), &Fields::of(update));
            self.active.pop();
        }
        self.compare_nested(original, update);
    }

    fn compare_fields(&mut self, original: &Fields, update: &Fields) {
        // A oneof removed by name with none of its members left anywhere is a deletion,
        // which Confluent accepts; members dropped from a oneof that survives in part are
        // reported one by one below.
        let deleted: HashSet<&str> = original
            .oneofs
            .iter()
            .filter(|(name, members)| {
                !update.has_oneof(name) && !members.iter().any(|number| update.contains(*number))
            })
            .map(|(name, _)| name.as_str())
            .collect();

        // Newly introduced mutual exclusion: a oneof of the update whose existing members come
        // from more than one origin (an original oneof, or each former top-level field).
        for (name, members) in &update.oneofs {
            let mut origins = HashSet::new();
            let mut moved_in = 0;
            for number in members {
                if let Some(oneof) = original.oneof_of.get(number) {
                    origins.insert(format!("oneof:{oneof}"));
                } else if original.contains(*number) {
                    origins.insert(format!("field:{number}"));
                    moved_in += 1;
                }
            }
            if origins.len() > 1 {
                self.at(name.as_str(), |differ| {
                    differ.push(if moved_in > 1 {
                        Kind::MULTIPLE_FIELDS_MOVED_TO_ONEOF
                    } else {
                        Kind::FIELD_MOVED_TO_EXISTING_ONEOF
                    })
                });
            }
        }

        let names: BTreeSet<&str> = original
            .oneofs
            .iter()
            .chain(&update.oneofs)
            .map(|(name, _)| name.as_str())
            .collect();
        for name in names {
            if !update.has_oneof(name) {
                self.at(name, |differ| differ.push(Kind::ONEOF_REMOVED));
            } else if !original.has_oneof(name) {
                self.at(name, |differ| differ.push(Kind::ONEOF_ADDED));
            }
        }

        let mut numbers: Vec<u32> = original
            .by_number
            .iter()
            .chain(&update.by_number)
            .map(|(number, _)| *number)
            .collect();
        numbers.sort_unstable();
        numbers.dedup();
        for number in numbers {
            let was_in = original.oneof_of.get(&number);
            let is_in = update.oneof_of.get(&number);
            match (original.get(number), update.get(number)) {
                (Some(field), None) => match was_in {
                    Some(oneof) if !deleted.contains(oneof.as_str()) => {
                        self.at_field(Some(oneof), number, |differ| {
                            differ.push(Kind::ONEOF_FIELD_REMOVED)
                        });
                    }
                    Some(_) => {}
                    None => self.at_field(None, number, |differ| {
                        differ.push(if Label::of(field) == Some(Label::Required) {
                            Kind::REQUIRED_FIELD_REMOVED
                        } else {
                            Kind::FIELD_REMOVED
                        })
                    }),
                },
                (None, Some(field)) => match is_in {
                    Some(oneof) => self.at_field(Some(oneof), number, |differ| {
                        differ.push(Kind::ONEOF_FIELD_ADDED)
                    }),
                    None => self.at_field(None, number, |differ| {
                        differ.push(if Label::of(field) == Some(Label::Required) {
                            Kind::REQUIRED_FIELD_ADDED
                        } else {
                            Kind::FIELD_ADDED
                        })
                    }),
                },
                (Some(was), Some(is)) => {
                    if was_in.is_some() && is_in.is_none() {
                        self.at_field(None, number, |differ| {
                            differ.push(Kind::ONEOF_FIELD_MOVED_TO_TOP_LEVEL)
                        });
                    }
                    // Reported where the field now is.
                    self.at_field(is_in, number, |differ| differ.compare_field(was, is));
                }
                (None, None) => {}
            }
        }
    }

    /// Runs `f` at the path of field `number`, inside `oneof` when it is a member of one.
    fn at_field(&mut self, oneof: Option<&String>, number: u32, f: impl FnOnce(&mut Self)) {
        match oneof {
            Some(oneof) => self.at(oneof.as_str(), |differ| differ.at(number, f)),
            None => self.at(number, f),
        }
    }
}
