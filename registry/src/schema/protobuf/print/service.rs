//! Services and their methods.

use prost_reflect::prost_types::ServiceDescriptorProto;

use super::{Printer, bare, indented, qualify};

impl Printer<'_> {
    pub(super) fn service(
        &self,
        scope: &str,
        service: &ServiceDescriptorProto,
        raw: Option<&ServiceDescriptorProto>,
    ) -> String {
        let descriptor = self
            .pool
            .get_service_by_name(&qualify(scope, service.name()));
        let mut out = format!("service {} {{", service.name());
        if let Some(descriptor) = &descriptor {
            let options = self.options(&descriptor.options(), &[]);
            if !options.is_empty() {
                out.push('\n');
                for option in options {
                    indented(&mut out, &format!("option {option};"));
                }
            }
        }
        if !service.method.is_empty() {
            out.push('\n');
            for (index, method) in service.method.iter().enumerate() {
                let raw = raw.and_then(|r| r.method.get(index));
                let name = |resolved: &str, written: Option<&str>| match written {
                    Some(written) if !self.normalize => written.to_owned(),
                    _ => format!(".{}", bare(resolved)),
                };
                let input = name(
                    method.input_type(),
                    raw.and_then(|r| r.input_type.as_deref()),
                );
                let output = name(
                    method.output_type(),
                    raw.and_then(|r| r.output_type.as_deref()),
                );
                let stream = |yes: bool| if yes { "stream " } else { "" };
                let mut line = format!(
                    "rpc {} ({}{input}) returns ({}{output})",
                    method.name(),
                    stream(method.client_streaming()),
                    stream(method.server_streaming())
                );
                let options = descriptor
                    .as_ref()
                    .and_then(|d| d.methods().nth(index))
                    .map(|m| self.options(&m.options(), &[]))
                    .unwrap_or_default();
                if !options.is_empty() {
                    line.push_str(" {\n");
                    for option in options {
                        indented(&mut line, &format!("option {option};"));
                    }
                    line.push('}');
                }
                line.push(';');
                indented(&mut out, &line);
            }
        }
        out.push_str("}\n");
        out
    }
}
