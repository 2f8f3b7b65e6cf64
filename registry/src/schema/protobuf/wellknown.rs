//! The imports Confluent Schema Registry resolves without references, besides the
//! `google/protobuf/*.proto` files protox ships: `google/type/*.proto` and Confluent's own
//! `confluent/meta.proto` and `confluent/type/*.proto`, kept in the crate as data.

/// Import path and `.proto` text of each bundled file.
const FILES: [(&str, &str); 19] = [
    (
        "confluent/meta.proto",
        include_str!("wellknown/confluent/meta.proto"),
    ),
    (
        "confluent/type/decimal.proto",
        include_str!("wellknown/confluent/type/decimal.proto"),
    ),
    (
        "confluent/type/variant.proto",
        include_str!("wellknown/confluent/type/variant.proto"),
    ),
    (
        "google/type/calendar_period.proto",
        include_str!("wellknown/google/type/calendar_period.proto"),
    ),
    (
        "google/type/color.proto",
        include_str!("wellknown/google/type/color.proto"),
    ),
    (
        "google/type/date.proto",
        include_str!("wellknown/google/type/date.proto"),
    ),
    (
        "google/type/datetime.proto",
        include_str!("wellknown/google/type/datetime.proto"),
    ),
    (
        "google/type/dayofweek.proto",
        include_str!("wellknown/google/type/dayofweek.proto"),
    ),
    (
        "google/type/decimal.proto",
        include_str!("wellknown/google/type/decimal.proto"),
    ),
    (
        "google/type/expr.proto",
        include_str!("wellknown/google/type/expr.proto"),
    ),
    (
        "google/type/fraction.proto",
        include_str!("wellknown/google/type/fraction.proto"),
    ),
    (
        "google/type/interval.proto",
        include_str!("wellknown/google/type/interval.proto"),
    ),
    (
        "google/type/latlng.proto",
        include_str!("wellknown/google/type/latlng.proto"),
    ),
    (
        "google/type/money.proto",
        include_str!("wellknown/google/type/money.proto"),
    ),
    (
        "google/type/month.proto",
        include_str!("wellknown/google/type/month.proto"),
    ),
    (
        "google/type/phone_number.proto",
        include_str!("wellknown/google/type/phone_number.proto"),
    ),
    (
        "google/type/postal_address.proto",
        include_str!("wellknown/google/type/postal_address.proto"),
    ),
    (
        "google/type/quaternion.proto",
        include_str!("wellknown/google/type/quaternion.proto"),
    ),
    (
        "google/type/timeofday.proto",
        include_str!("wellknown/google/type/timeofday.proto"),
    ),
];

/// The text of a bundled import, by its import path.
pub(super) fn source(name: &str) -> Option<&'static str> {
    FILES
        .iter()
        .find(|(path, _)| *path == name)
        .map(|(_, text)| *text)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::schema::protobuf;

    #[test]
    fn every_bundled_file_compiles_and_is_importable() {
        for (path, _) in FILES {
            let text = format!("syntax = \"proto3\";\nimport \"{path}\";\nmessage M {{}}\n");
            let parsed = protobuf::parse(&text, &[]);
            assert!(parsed.is_ok(), "{path}: {:?}", parsed.err());
        }
    }

    #[test]
    fn imports_resolve_to_their_messages() {
        let text = "syntax = \"proto3\";\nimport \"google/type/money.proto\";\nimport \"confluent/type/decimal.proto\";\n\
                    message Price { google.type.Money amount = 1; confluent.type.Decimal exact = 2; }";
        let (schema, _) = protobuf::parse(text, &[]).unwrap();
        let pool = schema.file().parent_pool();
        assert!(pool.get_message_by_name("google.type.Money").is_some());
        assert!(pool.get_message_by_name("confluent.type.Decimal").is_some());
    }
}
