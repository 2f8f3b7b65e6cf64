//! Server-side syntax highlighting. JSON (Avro and JSON Schema documents) is re-indented from
//! its tokens, keeping the order of members, and each line records the JSON pointer of the
//! value that starts on it, so that a violation's location finds its line. `.proto` text keeps
//! its own layout and is only coloured, as is Rust (the generated code).

/// What a piece of text is, as a CSS class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// Indentation, whitespace and text outside any token.
    Plain,
    /// A member name.
    Key,
    /// A string value.
    Str,
    /// A number.
    Num,
    /// `true`, `false`, `null`, or a language keyword.
    Keyword,
    /// A built-in type name.
    Type,
    /// A comment.
    Comment,
    /// Brackets, colons and commas.
    Punct,
}

impl Class {
    /// The CSS class; `None` for plain text.
    pub(crate) fn css(self) -> Option<&'static str> {
        match self {
            Class::Plain => None,
            Class::Key => Some("tk"),
            Class::Str => Some("ts"),
            Class::Num => Some("tn"),
            Class::Keyword => Some("tw"),
            Class::Type => Some("tt"),
            Class::Comment => Some("tc"),
            Class::Punct => Some("tp"),
        }
    }
}

/// One line of highlighted text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Line {
    /// The pieces of the line, in order.
    pub(crate) pieces: Vec<(Class, String)>,
    /// The JSON pointer (without `#`) of the value that starts on this line.
    pub(crate) pointer: Option<String>,
}

impl Line {
    /// The line's text.
    pub(crate) fn text(&self) -> String {
        self.pieces.iter().map(|(_, text)| text.as_str()).collect()
    }

    fn push(&mut self, class: Class, text: &str) {
        self.pieces.push((class, text.to_owned()));
    }
}

/// Highlights a schema's text: JSON documents re-indented, `.proto` (`PROTOBUF`) as written.
pub(crate) fn schema(schema_type: &str, text: &str) -> Vec<Line> {
    if schema_type == "PROTOBUF" {
        return proto(text);
    }
    json(text).unwrap_or_else(|| plain(text))
}

/// Lines without highlighting.
pub(crate) fn plain(text: &str) -> Vec<Line> {
    text.lines()
        .map(|line| Line {
            pieces: vec![(Class::Plain, line.to_owned())],
            pointer: None,
        })
        .collect()
}

/// The line (0-based) that holds the value at `location` (an Avro path or a JSON pointer,
/// with or without `#`), or the closest enclosing value that has one.
pub(crate) fn line_of(lines: &[Line], location: &str) -> Option<usize> {
    let mut pointer = location.trim_start_matches('#');
    loop {
        if let Some(index) = lines
            .iter()
            .position(|line| line.pointer.as_deref() == Some(pointer))
        {
            return Some(index);
        }
        let (parent, _) = pointer.rsplit_once('/')?;
        pointer = parent;
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token<'a> {
    Open(char),
    Close(char),
    Colon,
    Comma,
    Str(&'a str),
    Scalar(&'a str),
}

fn lex_json(text: &str) -> Option<Vec<Token<'_>>> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'{' | b'[' => {
                tokens.push(Token::Open(char::from(bytes[i])));
                i += 1;
            }
            b'}' | b']' => {
                tokens.push(Token::Close(char::from(bytes[i])));
                i += 1;
            }
            b':' => {
                tokens.push(Token::Colon);
                i += 1;
            }
            b',' => {
                tokens.push(Token::Comma);
                i += 1;
            }
            b'"' => {
                let start = i;
                i += 1;
                loop {
                    match bytes.get(i)? {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
                i += 1;
                tokens.push(Token::Str(text.get(start..i)?));
            }
            b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => {
                let start = i;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || b"+-.".contains(&bytes[i]))
                {
                    i += 1;
                }
                tokens.push(Token::Scalar(text.get(start..i)?));
            }
            _ => return None,
        }
    }
    Some(tokens)
}

/// Escapes a member name as a JSON pointer segment.
fn segment(key: &str) -> String {
    let unquoted: String = serde_json::from_str(key).unwrap_or_else(|_| key.to_owned());
    unquoted.replace('~', "~0").replace('/', "~1")
}

enum Frame {
    Object(String),
    Array(usize),
}

/// Re-indents a JSON document by its tokens (two spaces), recording pointers; `None` when the
/// text is not made of JSON tokens.
pub(crate) fn json(text: &str) -> Option<Vec<Line>> {
    let tokens = lex_json(text)?;
    let mut lines = Vec::new();
    let mut line = Line::default();
    let mut frames: Vec<(String, Frame)> = Vec::new();
    let mut pointer = String::new();
    let mut index = 0;
    let newline = |lines: &mut Vec<Line>, line: &mut Line, depth: usize| {
        lines.push(std::mem::take(line));
        line.push(Class::Plain, &"  ".repeat(depth));
    };
    let start_element = |line: &mut Line, frames: &[(String, Frame)]| {
        if let Some((base, Frame::Array(i))) = frames.last() {
            line.pointer = Some(format!("{base}/{i}"));
        }
    };
    if tokens.is_empty() {
        return None;
    }
    line.pointer = Some(String::new());
    while index < tokens.len() {
        match &tokens[index] {
            Token::Open(c) => {
                line.push(Class::Punct, &c.to_string());
                let empty = matches!(tokens.get(index + 1), Some(Token::Close(_)));
                if empty {
                    if let Some(Token::Close(close)) = tokens.get(index + 1) {
                        line.push(Class::Punct, &close.to_string());
                    }
                    index += 1;
                } else {
                    let frame = if *c == '{' {
                        Frame::Object(String::new())
                    } else {
                        Frame::Array(0)
                    };
                    frames.push((pointer.clone(), frame));
                    newline(&mut lines, &mut line, frames.len());
                    start_element(&mut line, &frames);
                    if let Some((base, Frame::Array(i))) = frames.last() {
                        pointer = format!("{base}/{i}");
                    }
                }
            }
            Token::Close(c) => {
                let (base, _) = frames.pop()?;
                pointer = base;
                newline(&mut lines, &mut line, frames.len());
                line.push(Class::Punct, &c.to_string());
            }
            Token::Colon => line.push(Class::Punct, ": "),
            Token::Comma => {
                line.push(Class::Punct, ",");
                newline(&mut lines, &mut line, frames.len());
                if let Some((base, Frame::Array(i))) = frames.last_mut() {
                    *i += 1;
                    pointer = format!("{base}/{i}");
                }
                start_element(&mut line, &frames);
            }
            Token::Str(s) => {
                let is_key = matches!(tokens.get(index + 1), Some(Token::Colon))
                    && matches!(frames.last(), Some((_, Frame::Object(_))));
                if is_key {
                    if let Some((base, Frame::Object(key))) = frames.last_mut() {
                        *key = segment(s);
                        pointer = format!("{base}/{key}");
                        line.pointer = Some(pointer.clone());
                    }
                    line.push(Class::Key, s);
                } else {
                    line.push(Class::Str, s);
                }
            }
            Token::Scalar(s) => {
                let class = if s.starts_with(['t', 'f', 'n']) {
                    Class::Keyword
                } else {
                    Class::Num
                };
                line.push(class, s);
            }
        }
        index += 1;
    }
    if !frames.is_empty() {
        return None;
    }
    lines.push(line);
    Some(lines)
}

/// The words a language colours: keywords and built-in types.
struct Words {
    keywords: &'static [&'static str],
    types: &'static [&'static str],
}

const PROTO: Words = Words {
    keywords: &[
        "syntax",
        "edition",
        "package",
        "import",
        "option",
        "message",
        "enum",
        "service",
        "rpc",
        "returns",
        "stream",
        "repeated",
        "optional",
        "required",
        "oneof",
        "map",
        "reserved",
        "extend",
        "extensions",
        "true",
        "false",
        "to",
    ],
    types: &[
        "double", "float", "int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32",
        "fixed64", "sfixed32", "sfixed64", "bool", "string", "bytes",
    ],
};

const RUST: Words = Words {
    keywords: &[
        "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
        "extern", "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move",
        "mut", "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait",
        "true", "type", "unsafe", "use", "where", "while",
    ],
    types: &[
        "bool", "char", "str", "String", "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16",
        "u32", "u64", "u128", "usize", "f32", "f64", "Vec", "Option", "Box",
    ],
};

/// Colours `.proto` text line by line (block comments may span lines).
pub(crate) fn proto(text: &str) -> Vec<Line> {
    words(text, &PROTO)
}

/// Colours Rust source (generated code) line by line.
pub(crate) fn rust(text: &str) -> Vec<Line> {
    words(text, &RUST)
}

/// Colours C-like text (`//` and `/* */` comments, quoted strings) line by line, with the
/// language's `words`.
fn words(text: &str, words: &Words) -> Vec<Line> {
    let mut in_comment = false;
    text.lines()
        .map(|source| {
            let mut line = Line::default();
            let mut rest = source;
            while !rest.is_empty() {
                let (class, len) = if in_comment || rest.starts_with("/*") {
                    let from = if in_comment { 0 } else { 2 };
                    match rest[from..].find("*/") {
                        Some(i) => {
                            in_comment = false;
                            (Class::Comment, from + i + 2)
                        }
                        None => {
                            in_comment = true;
                            (Class::Comment, rest.len())
                        }
                    }
                } else {
                    token(rest, words)
                };
                match line.pieces.last_mut() {
                    Some((last, text)) if *last == class && class == Class::Plain => {
                        text.push_str(&rest[..len]);
                    }
                    _ => line.push(class, &rest[..len]),
                }
                rest = &rest[len..];
            }
            line
        })
        .collect()
}

/// The class and byte length of the token `rest` starts with (not a block comment).
fn token(rest: &str, words: &Words) -> (Class, usize) {
    let first = rest.chars().next().unwrap_or(' ');
    if rest.starts_with("//") {
        return (Class::Comment, rest.len());
    }
    if first == '"' || first == '\'' {
        let mut escaped = false;
        for (i, c) in rest.char_indices().skip(1) {
            if !escaped && c == first {
                return (Class::Str, i + 1);
            }
            escaped = !escaped && c == '\\';
        }
        if first == '\'' {
            // An unterminated `'` is a Rust lifetime, not a string.
            return (Class::Plain, 1);
        }
        return (Class::Str, rest.len());
    }
    let word_end = |accept: fn(char) -> bool| rest.find(|c: char| !accept(c)).unwrap_or(rest.len());
    if first.is_ascii_alphabetic() || first == '_' {
        let len = word_end(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
        let word = &rest[..len];
        let class = if words.keywords.contains(&word) {
            Class::Keyword
        } else if words.types.contains(&word) {
            Class::Type
        } else {
            Class::Plain
        };
        return (class, len);
    }
    if first.is_ascii_digit() || first == '-' {
        let len = word_end(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        return (Class::Num, len.max(1));
    }
    if "{}[]()<>;=,".contains(first) {
        return (Class::Punct, first.len_utf8());
    }
    (Class::Plain, first.len_utf8())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[Line]) -> Vec<String> {
        lines.iter().map(Line::text).collect()
    }

    #[test]
    fn json_is_reindented_in_order_with_pointers() {
        let lines = json(r#"{"type":"record","name":"Order","fields":[{"name":"id","type":"string"},{"name":"tags","type":{"type":"array","items":"string"},"default":[]}]}"#)
            .unwrap_or_default();
        assert_eq!(
            texts(&lines),
            [
                "{",
                "  \"type\": \"record\",",
                "  \"name\": \"Order\",",
                "  \"fields\": [",
                "    {",
                "      \"name\": \"id\",",
                "      \"type\": \"string\"",
                "    },",
                "    {",
                "      \"name\": \"tags\",",
                "      \"type\": {",
                "        \"type\": \"array\",",
                "        \"items\": \"string\"",
                "      },",
                "      \"default\": []",
                "    }",
                "  ]",
                "}",
            ]
        );
        assert_eq!(line_of(&lines, "/fields/1/type"), Some(10));
        assert_eq!(line_of(&lines, "/fields/1"), Some(8));
        assert_eq!(line_of(&lines, "#/fields/0/name"), Some(5));
        assert_eq!(line_of(&lines, "/fields/7/type"), Some(3));
        assert_eq!(line_of(&lines, ""), Some(0));
        assert_eq!(lines[1].pieces[1], (Class::Key, "\"type\"".to_owned()));
        assert_eq!(lines[1].pieces[3], (Class::Str, "\"record\"".to_owned()));
    }

    #[test]
    fn json_pointer_segments_are_escaped() {
        let lines = json(r#"{"properties":{"a/b":{"type":"integer"}}}"#).unwrap_or_default();
        assert_eq!(line_of(&lines, "#/properties/a~1b"), Some(2));
    }

    #[test]
    fn not_json_is_plain() {
        assert!(json("syntax = \"proto3\";").is_none());
        assert!(json("{\"a\": [1, 2}").is_none());
        assert_eq!(texts(&schema("AVRO", "\"string\"")), ["\"string\""]);
    }

    #[test]
    fn proto_keywords_types_strings_and_comments() {
        let lines =
            proto("syntax = \"proto3\";\n// orders\nmessage Order { int64 id = 1; /* x */ }");
        assert_eq!(texts(&lines)[2], "message Order { int64 id = 1; /* x */ }");
        assert_eq!(lines[0].pieces[0], (Class::Keyword, "syntax".to_owned()));
        assert!(
            lines[0]
                .pieces
                .contains(&(Class::Str, "\"proto3\"".to_owned()))
        );
        assert_eq!(lines[1].pieces, [(Class::Comment, "// orders".to_owned())]);
        assert!(lines[2].pieces.contains(&(Class::Type, "int64".to_owned())));
        assert!(lines[2].pieces.contains(&(Class::Num, "1".to_owned())));
        assert!(
            lines[2]
                .pieces
                .contains(&(Class::Comment, "/* x */".to_owned()))
        );
        let spanning = proto("/* a\nb */ message");
        assert_eq!(spanning[1].pieces[0], (Class::Comment, "b */".to_owned()));
    }

    #[test]
    fn rust_keywords_types_and_lifetimes() {
        let lines = rust("/// An order.\npub struct Order<'a> {\n    pub id: &'a str, // id\n}");
        assert_eq!(
            lines[0].pieces,
            [(Class::Comment, "/// An order.".to_owned())]
        );
        assert_eq!(lines[1].pieces[0], (Class::Keyword, "pub".to_owned()));
        assert!(
            lines[1]
                .pieces
                .contains(&(Class::Keyword, "struct".to_owned()))
        );
        assert!(lines[2].pieces.contains(&(Class::Type, "str".to_owned())));
        assert!(
            !lines[2]
                .pieces
                .iter()
                .any(|(class, _)| *class == Class::Str)
        );
        assert_eq!(lines[2].pieces.last().map(|p| p.0), Some(Class::Comment));
        let spanning = proto("/* a\nb */ message");
        assert_eq!(spanning[1].pieces[0], (Class::Comment, "b */".to_owned()));
        assert_eq!(spanning[1].pieces.last().map(|p| p.0), Some(Class::Keyword));
    }
}
