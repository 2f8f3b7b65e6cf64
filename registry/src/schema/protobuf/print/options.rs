//! Option statements and entries: standard options by field number, custom ones after.

use prost_reflect::DynamicMessage;

use super::Printer;
use super::literal::push_entries;

impl Printer<'_> {
    /// The set options of an options message as `name = value` entries (repeated ones once per
    /// value), standard ones by field number then custom ones, or all sorted by name when
    /// normalizing.
    pub(super) fn options(&self, options: &DynamicMessage, skip: &[&str]) -> Vec<String> {
        let mut entries: Vec<(String, String)> = Vec::new();
        for (field, value) in options.fields() {
            if skip.contains(&field.name()) {
                continue;
            }
            push_entries(
                &mut entries,
                field.name().to_owned(),
                field.name().to_owned(),
                &field.kind(),
                value,
            );
        }
        for (extension, value) in options.extensions() {
            let name = extension.full_name().to_owned();
            push_entries(
                &mut entries,
                name.clone(),
                format!("({name})"),
                &extension.kind(),
                value,
            );
        }
        if self.normalize {
            entries.sort_by(|a, b| a.0.cmp(&b.0));
        }
        entries.into_iter().map(|(_, entry)| entry).collect()
    }
}

/// The name an option entry sets: `deprecated` for `deprecated = true`, `acme.unit` for
/// `(acme.unit) = "m"`.
pub(super) fn option_name(entry: &str) -> &str {
    let name = entry.split(" = ").next().unwrap_or(entry);
    name.trim_start_matches('(').trim_end_matches(')')
}
