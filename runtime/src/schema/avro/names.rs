//! Avro names: what is valid, and names made up for anonymous records.

/// Whether `name` is a valid Avro name (letters, digits and `_`, not starting with a digit).
pub(crate) fn is_avro_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `line_items` → `LineItems`, for names of anonymous records.
pub(super) fn pascal(key: &str) -> String {
    key.split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_avro_rules() {
        assert!(is_avro_name("Placed"));
        assert!(is_avro_name("_x1"));
        assert!(!is_avro_name("1x"));
        assert!(!is_avro_name("order-id"));
        assert!(!is_avro_name(""));
    }

    #[test]
    fn pascal_joins_snake_case() {
        assert_eq!(pascal("line_items"), "LineItems");
        assert_eq!(pascal("x"), "X");
    }
}
