//! The 26 kinds of difference Confluent's Protobuf diff reports, and which 15 of them it
//! counts as backward compatible.

/// Declares the kinds once and derives `as_str` from the variant names, so a kind always
/// prints exactly as Confluent spells it.
macro_rules! kinds {
    ($($kind:ident),* $(,)?) => {
        /// One kind of difference between two Protobuf files, named as Confluent names it.
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub(super) enum Kind {
            $(
                #[doc = concat!("`", stringify!($kind), "`")]
                $kind,
            )*
        }

        impl Kind {
            /// The name Confluent uses, e.g. `FIELD_SCALAR_KIND_CHANGED`.
            pub(super) fn as_str(self) -> &'static str {
                match self {
                    $(Kind::$kind => stringify!($kind),)*
                }
            }
        }
    };
}

kinds! {
    PACKAGE_CHANGED, MESSAGE_ADDED, MESSAGE_REMOVED, MESSAGE_MOVED,
    ENUM_ADDED, ENUM_REMOVED, ENUM_CONST_ADDED, ENUM_CONST_CHANGED, ENUM_CONST_REMOVED,
    FIELD_ADDED, FIELD_REMOVED, FIELD_NAME_CHANGED, FIELD_KIND_CHANGED,
    FIELD_SCALAR_KIND_CHANGED, FIELD_NAMED_TYPE_CHANGED,
    FIELD_NUMERIC_LABEL_CHANGED, FIELD_STRING_OR_BYTES_LABEL_CHANGED,
    REQUIRED_FIELD_ADDED, REQUIRED_FIELD_REMOVED,
    ONEOF_ADDED, ONEOF_REMOVED, ONEOF_FIELD_ADDED, ONEOF_FIELD_REMOVED,
    ONEOF_FIELD_MOVED_TO_TOP_LEVEL, MULTIPLE_FIELDS_MOVED_TO_ONEOF, FIELD_MOVED_TO_EXISTING_ONEOF,
}

impl Kind {
    /// Whether Confluent counts this change as backward compatible (its `COMPATIBLE_CHANGES`).
    pub(super) fn is_compatible(self) -> bool {
        use Kind::*;
        matches!(
            self,
            MESSAGE_ADDED
                | MESSAGE_MOVED
                | ENUM_ADDED
                | ENUM_REMOVED
                | ENUM_CONST_ADDED
                | ENUM_CONST_CHANGED
                | ENUM_CONST_REMOVED
                | FIELD_ADDED
                | FIELD_REMOVED
                | FIELD_NAME_CHANGED
                | FIELD_STRING_OR_BYTES_LABEL_CHANGED
                | ONEOF_ADDED
                | ONEOF_REMOVED
                | ONEOF_FIELD_ADDED
                | ONEOF_FIELD_MOVED_TO_TOP_LEVEL
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Kind;

    #[test]
    fn names_match_confluent_spelling() {
        assert_eq!(
            Kind::FIELD_SCALAR_KIND_CHANGED.as_str(),
            "FIELD_SCALAR_KIND_CHANGED"
        );
        assert_eq!(
            Kind::FIELD_MOVED_TO_EXISTING_ONEOF.as_str(),
            "FIELD_MOVED_TO_EXISTING_ONEOF"
        );
    }

    #[test]
    fn fifteen_kinds_are_compatible() {
        use Kind::*;
        let all = [
            PACKAGE_CHANGED,
            MESSAGE_ADDED,
            MESSAGE_REMOVED,
            MESSAGE_MOVED,
            ENUM_ADDED,
            ENUM_REMOVED,
            ENUM_CONST_ADDED,
            ENUM_CONST_CHANGED,
            ENUM_CONST_REMOVED,
            FIELD_ADDED,
            FIELD_REMOVED,
            FIELD_NAME_CHANGED,
            FIELD_KIND_CHANGED,
            FIELD_SCALAR_KIND_CHANGED,
            FIELD_NAMED_TYPE_CHANGED,
            FIELD_NUMERIC_LABEL_CHANGED,
            FIELD_STRING_OR_BYTES_LABEL_CHANGED,
            REQUIRED_FIELD_ADDED,
            REQUIRED_FIELD_REMOVED,
            ONEOF_ADDED,
            ONEOF_REMOVED,
            ONEOF_FIELD_ADDED,
            ONEOF_FIELD_REMOVED,
            ONEOF_FIELD_MOVED_TO_TOP_LEVEL,
            MULTIPLE_FIELDS_MOVED_TO_ONEOF,
            FIELD_MOVED_TO_EXISTING_ONEOF,
        ];
        assert_eq!(all.iter().filter(|kind| kind.is_compatible()).count(), 15);
        assert!(!FIELD_NUMERIC_LABEL_CHANGED.is_compatible());
        assert!(FIELD_STRING_OR_BYTES_LABEL_CHANGED.is_compatible());
    }
}
