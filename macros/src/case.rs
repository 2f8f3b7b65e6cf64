//! Variant names to event-type suffixes.

/// `Placed` → `placed`, `OrderPlaced` → `order_placed`, `HTTPError` → `http_error`,
/// `PlacedV2` → `placed_v2`.
pub(crate) fn snake_case(ident: &str) -> String {
    let ident = ident.strip_prefix("r#").unwrap_or(ident);
    let chars: Vec<char> = ident.chars().collect();
    let mut out = String::with_capacity(ident.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let previous = chars[i - 1];
            let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            let boundary = previous.is_ascii_lowercase()
                || previous.is_ascii_digit()
                || (previous.is_ascii_uppercase() && next_is_lower);
            if boundary && previous != '_' {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn converts_variant_names() {
        assert_eq!(snake_case("Placed"), "placed");
        assert_eq!(snake_case("OrderPlaced"), "order_placed");
        assert_eq!(snake_case("HTTPError"), "http_error");
        assert_eq!(snake_case("PlacedV2"), "placed_v2");
        assert_eq!(snake_case("Already_Snake"), "already_snake");
        assert_eq!(snake_case("A"), "a");
    }
}
