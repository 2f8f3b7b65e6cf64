//! Enums and their constants.

use prost_reflect::prost_types::EnumDescriptorProto;

use super::{Printer, bracketed, indented, qualify};

impl Printer<'_> {
    pub(super) fn enumeration(&self, scope: &str, enumeration: &EnumDescriptorProto) -> String {
        let full = qualify(scope, enumeration.name());
        let descriptor = self.pool.get_enum_by_name(&full);
        let mut out = format!("enum {} {{", enumeration.name());
        let reserved = self.reserved(
            enumeration
                .reserved_range
                .iter()
                .map(|r| (r.start(), r.end()))
                .collect(),
            &enumeration.reserved_name,
        );
        let options = descriptor
            .as_ref()
            .map(|d| self.options(&d.options(), &[]))
            .unwrap_or_default();
        if !reserved.is_empty() {
            out.push('\n');
            for line in reserved {
                indented(&mut out, &format!("reserved {line};"));
            }
        } else if !options.is_empty() || !enumeration.value.is_empty() {
            out.push('\n');
        }
        for option in options {
            indented(&mut out, &format!("option {option};"));
        }
        let mut values: Vec<_> = enumeration.value.iter().collect();
        if self.normalize {
            values.sort_by(|a, b| a.number().cmp(&b.number()).then(a.name().cmp(b.name())));
        }
        for value in values {
            let mut line = format!("{} = {}", value.name(), value.number());
            let options = descriptor
                .as_ref()
                .and_then(|d| d.get_value_by_name(value.name()))
                .map(|v| self.options(&v.options(), &[]))
                .unwrap_or_default();
            if !options.is_empty() {
                line.push(' ');
                line.push_str(&bracketed(&options));
            }
            line.push(';');
            indented(&mut out, &line);
        }
        out.push_str("}\n");
        out
    }
}
