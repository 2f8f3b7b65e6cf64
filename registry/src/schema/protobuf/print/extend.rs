//! `extend` blocks, grouped by extendee.

use prost_reflect::prost_types::FieldDescriptorProto;

use super::{Printer, bare, indented};

impl Printer<'_> {
    /// `extend` blocks, grouped by extendee in order of first appearance.
    pub(super) fn extends(
        &self,
        fields: &[FieldDescriptorProto],
        raw: Option<&[FieldDescriptorProto]>,
    ) -> String {
        let mut blocks: Vec<(String, Vec<usize>)> = Vec::new();
        for (index, field) in fields.iter().enumerate() {
            let extendee = match raw
                .and_then(|r| r.get(index))
                .and_then(|r| r.extendee.as_deref())
            {
                Some(written) if !self.normalize => written.to_owned(),
                _ => format!(".{}", bare(field.extendee())),
            };
            match blocks.iter_mut().find(|(name, _)| *name == extendee) {
                Some((_, members)) => members.push(index),
                None => blocks.push((extendee, vec![index])),
            }
        }
        let mut out = String::new();
        for (extendee, mut members) in blocks {
            if self.normalize {
                members.sort_by_key(|&i| fields[i].number());
            }
            out.push_str(&format!("extend {extendee} {{\n"));
            for i in members {
                let field = &fields[i];
                let raw_field = raw.and_then(|r| r.get(i));
                let options = self
                    .pool
                    .get_message_by_name(bare(field.extendee()))
                    .and_then(|m| m.get_extension(u32::try_from(field.number()).unwrap_or(0)))
                    .map(|e| e.options());
                indented(
                    &mut out,
                    &self.field_line(field, raw_field, None, false, options),
                );
            }
            out.push_str("}\n");
        }
        out
    }
}
