use super::SchemaError;

/// Bounds applied to schema text before it is parsed, so that hostile input is rejected
/// cheaply and without deep recursion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted schema, in bytes. Default: 1 MiB.
    pub max_bytes: usize,
    /// Deepest accepted nesting of JSON arrays and objects. Default: 100.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 1 << 20,
            max_depth: 100,
        }
    }
}

impl Limits {
    /// Checks size and nesting depth with one linear scan that understands JSON strings.
    pub(crate) fn check(&self, text: &str) -> Result<(), SchemaError> {
        if text.len() > self.max_bytes {
            return Err(SchemaError::TooLarge {
                size: text.len(),
                limit: self.max_bytes,
            });
        }
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        for (offset, byte) in text.bytes().enumerate() {
            if in_string {
                match byte {
                    _ if escaped => escaped = false,
                    b'\\' => escaped = true,
                    b'"' => in_string = false,
                    _ => {}
                }
                continue;
            }
            match byte {
                b'"' => in_string = true,
                b'[' | b'{' => {
                    depth += 1;
                    if depth > self.max_depth {
                        return Err(SchemaError::TooDeep {
                            limit: self.max_depth,
                            offset,
                        });
                    }
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        Ok(())
    }
}

impl Limits {
    /// Checks size and nesting depth of `.proto` text with one linear scan that skips
    /// comments and string literals: every `{`, `[`, `(` and `<` opens a level.
    pub(crate) fn check_proto(&self, text: &str) -> Result<(), SchemaError> {
        if text.len() > self.max_bytes {
            return Err(SchemaError::TooLarge {
                size: text.len(),
                limit: self.max_bytes,
            });
        }
        let bytes = text.as_bytes();
        let mut depth = 0usize;
        let mut offset = 0;
        while let Some(&byte) = bytes.get(offset) {
            match byte {
                b'/' if bytes.get(offset + 1) == Some(&b'/') => {
                    offset = memchr(bytes, offset, b'\n');
                }
                b'/' if bytes.get(offset + 1) == Some(&b'*') => {
                    offset = text
                        .get(offset + 2..)
                        .and_then(|rest| rest.find("*/"))
                        .map_or(bytes.len(), |end| offset + 2 + end + 1);
                }
                b'"' | b'\'' => {
                    let mut at = offset + 1;
                    while let Some(&c) = bytes.get(at) {
                        match c {
                            b'\\' => at += 1,
                            b'\n' => break,
                            _ if c == byte => break,
                            _ => {}
                        }
                        at += 1;
                    }
                    offset = at;
                }
                b'{' | b'[' | b'(' | b'<' => {
                    depth += 1;
                    if depth > self.max_depth {
                        return Err(SchemaError::TooDeep {
                            limit: self.max_depth,
                            offset,
                        });
                    }
                }
                b'}' | b']' | b')' | b'>' => depth = depth.saturating_sub(1),
                _ => {}
            }
            offset += 1;
        }
        Ok(())
    }
}

/// The offset of the next `needle` at or after `from`, or the end.
fn memchr(bytes: &[u8], from: usize, needle: u8) -> usize {
    bytes
        .get(from..)
        .and_then(|rest| rest.iter().position(|&b| b == needle))
        .map_or(bytes.len(), |at| from + at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_deep_nesting_without_recursion() {
        let text = "[".repeat(10_000) + &"]".repeat(10_000);
        let err = Limits::default().check(&text).unwrap_err();
        assert!(matches!(
            err,
            SchemaError::TooDeep {
                limit: 100,
                offset: 100
            }
        ));
    }

    #[test]
    fn brackets_inside_strings_do_not_count() {
        let text = format!("{{\"doc\": \"{}\\\"\"}}", "[".repeat(500));
        assert_eq!(Limits::default().check(&text), Ok(()));
    }

    #[test]
    fn rejects_oversized_input() {
        let limits = Limits {
            max_bytes: 10,
            max_depth: 100,
        };
        assert!(matches!(
            limits.check("{\"type\": \"string\"}"),
            Err(SchemaError::TooLarge {
                size: 18,
                limit: 10
            })
        ));
    }

    #[test]
    fn proto_nesting_is_bounded_and_comments_and_strings_do_not_count() {
        let deep = "message A {".repeat(10_000) + &"}".repeat(10_000);
        assert!(matches!(
            Limits::default().check_proto(&deep),
            Err(SchemaError::TooDeep { limit: 100, .. })
        ));
        let quiet = format!(
            "// {}\n/* {} */\noption x = \"{}\";\nmessage A {{}}",
            "{".repeat(500),
            "{".repeat(500),
            "{".repeat(500)
        );
        assert_eq!(Limits::default().check_proto(&quiet), Ok(()));
    }
}
