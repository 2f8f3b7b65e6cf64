//! The line of a location (a JSON pointer such as `#/properties/id`, or an Avro path such as
//! `/fields/3/type`) in a snapshot's text, for annotations that point at the offending line.
//!
//! A small scanner over the JSON text: it follows the pointer's segments and returns the line
//! of the deepest key or array element it reaches, so a pointer to something removed still
//! lands on its closest existing parent.

/// The 1-based line of `pointer` in the JSON `text`; `None` when `text` is not JSON where the
/// pointer leads.
pub(super) fn line_of(text: &str, pointer: &str) -> Option<usize> {
    let mut scanner = Scanner {
        bytes: text.as_bytes(),
        pos: 0,
        found_line: 1,
    };
    scanner.space();
    let mut line = scanner.line();
    for segment in segments(pointer) {
        scanner.space();
        let found = match scanner.peek()? {
            b'{' => scanner.enter_object(&segment)?,
            b'[' => match segment.parse::<usize>() {
                Ok(index) => scanner.enter_array(index)?,
                Err(_) => false,
            },
            _ => false,
        };
        if !found {
            break;
        }
        line = scanner.found_line;
    }
    Some(line)
}

/// The pointer's segments, unescaped (`~1` is `/`, `~0` is `~`); a leading `#` is dropped.
fn segments(pointer: &str) -> Vec<String> {
    let pointer = pointer.strip_prefix('#').unwrap_or(pointer);
    pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// The line of the last key or element entered.
    found_line: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn line(&self) -> usize {
        1 + self.bytes[..self.pos.min(self.bytes.len())]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
    }

    fn space(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    /// Consumes `byte` (after white space) if it is next.
    fn eat(&mut self, byte: u8) -> bool {
        self.space();
        if self.peek() == Some(byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// A string starting at `pos`, decoded.
    fn string(&mut self) -> Option<String> {
        let start = self.pos;
        self.pos += 1;
        loop {
            match self.peek()? {
                b'\\' => self.pos += 2,
                b'"' => {
                    self.pos += 1;
                    break;
                }
                _ => self.pos += 1,
            }
        }
        let raw = std::str::from_utf8(self.bytes.get(start..self.pos)?).ok()?;
        serde_json::from_str(raw).ok()
    }

    /// Skips one value.
    fn skip_value(&mut self) -> Option<()> {
        self.space();
        match self.peek()? {
            b'"' => {
                self.string()?;
            }
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match self.peek()? {
                        b'"' => {
                            self.string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.pos += 1;
                                return Some(());
                            }
                        }
                        _ => {}
                    }
                    self.pos += 1;
                }
            }
            _ => {
                while self
                    .peek()
                    .is_some_and(|b| !matches!(b, b',' | b'}' | b']') && !b.is_ascii_whitespace())
                {
                    self.pos += 1;
                }
            }
        }
        Some(())
    }

    /// Moves to the value of `key` in the object at `pos`; `false` when it has none.
    fn enter_object(&mut self, key: &str) -> Option<bool> {
        self.pos += 1;
        if self.eat(b'}') {
            return Some(false);
        }
        loop {
            self.space();
            let line = self.line();
            let name = self.string()?;
            if !self.eat(b':') {
                return None;
            }
            if name == key {
                self.found_line = line;
                return Some(true);
            }
            self.skip_value()?;
            if !self.eat(b',') {
                return Some(false);
            }
        }
    }

    /// Moves to element `index` of the array at `pos`; `false` when it is shorter.
    fn enter_array(&mut self, index: usize) -> Option<bool> {
        self.pos += 1;
        if self.eat(b']') {
            return Some(false);
        }
        for _ in 0..index {
            self.skip_value()?;
            if !self.eat(b',') {
                return Some(false);
            }
        }
        self.space();
        self.found_line = self.line();
        Some(true)
    }
}

#[cfg(test)]
mod tests {
    use super::line_of;

    const TEXT: &str = r#"{
  "fields": [
    {
      "name": "a/b",
      "type": "string"
    },
    {
      "name": "id",
      "type": { "type": "array", "items": "long" }
    }
  ],
  "title": "x"
}"#;

    #[test]
    fn pointers_resolve_to_the_line_of_their_key_or_element() {
        assert_eq!(line_of(TEXT, ""), Some(1));
        assert_eq!(line_of(TEXT, "/title"), Some(12));
        assert_eq!(line_of(TEXT, "#/title"), Some(12));
        assert_eq!(line_of(TEXT, "/fields/1"), Some(7));
        assert_eq!(line_of(TEXT, "/fields/1/type/items"), Some(9));
        assert_eq!(line_of(TEXT, "/fields/0/type"), Some(5));
    }

    #[test]
    fn a_missing_segment_lands_on_its_closest_parent() {
        assert_eq!(line_of(TEXT, "/fields/1/doc"), Some(7));
        assert_eq!(line_of(TEXT, "/fields/5"), Some(2));
        assert_eq!(line_of(TEXT, "/nothing"), Some(1));
    }
}
