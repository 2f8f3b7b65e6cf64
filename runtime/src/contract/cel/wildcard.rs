//! Confluent's wildcards over dotted names, as `metadata.tags` keys use them: `?` is one
//! character and `*` any run of them within a name (never a `.`), `**` any run across names;
//! `\` takes the next character literally.

/// Whether `text` matches `pattern` whole.
pub(super) fn matches(text: &str, pattern: &str) -> bool {
    let pattern = pattern.replace("**.*", "**");
    let text: Vec<char> = text.chars().collect();
    let pattern: Vec<char> = pattern.chars().collect();
    matches_from(&text, &pattern)
}

fn matches_from(text: &[char], pattern: &[char]) -> bool {
    match pattern {
        [] => text.is_empty(),
        ['*', '*', rest @ ..] => (0..=text.len()).any(|skip| matches_from(&text[skip..], rest)),
        ['*', rest @ ..] => {
            let name = text.iter().take_while(|c| **c != '.').count();
            (0..=name).any(|skip| matches_from(&text[skip..], rest))
        }
        ['?', rest @ ..] => text
            .split_first()
            .is_some_and(|(c, tail)| *c != '.' && matches_from(tail, rest)),
        ['\\', literal, rest @ ..] | [literal, rest @ ..] => text
            .split_first()
            .is_some_and(|(c, tail)| c == literal && matches_from(tail, rest)),
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn wildcards_match_as_confluents_do() {
        assert!(matches("eve", "eve*"));
        assert!(matches("alice.bob.eve", "a*.bob.eve"));
        assert!(matches("alice.bob.eve", "a*.bob.e*"));
        assert!(!matches("alice.bob.eve", "a*"));
        assert!(matches("alice.bob.eve", "a**"));
        assert!(!matches("alice.bob.eve", "alice.bob*"));
        assert!(matches("alice.bob.eve", "alice.bob**"));
        assert!(matches("com.ex.Order.ssn", "**.ssn"));
        assert!(matches("$.ssn", "$.ss?"));
        assert!(!matches("a.b", "a?b"));
    }
}
