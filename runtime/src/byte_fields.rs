//! Binary payload fields: [`Bytes`], [`Fixed`] and [`Decimal`], exported as Avro `bytes`,
//! `fixed` and `decimal`.
//!
//! A `Vec<u8>` is a sequence of integers to serde and schemars, so Herald would export it as
//! an Avro `array` of `int`. These newtypes serialize with `serialize_bytes` instead: Herald's
//! [`Avro`](crate::Avro) codec writes them as Avro bytes (or fixed), and JSON writes them as
//! serde_json writes any byte string, an array of byte values (`[104, 105]`), which they also
//! read back. Their JSON Schema is that array, with an `x-avro` keyword holding the Avro type
//! the exporter writes (see [`crate::schema`]).
//!
//! ```
//! use herald::{Bytes, Decimal, Event, Fixed};
//!
//! #[derive(Event, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
//! #[event(name = "upload", version = 1)]
//! pub struct Upload {
//!     pub content: Bytes,
//!     pub sha256: Fixed<32>,
//!     pub price: Decimal<10, 2>,
//! }
//!
//! let avro = Upload::export_avro_schema()?;
//! // Record fields keep their declaration order.
//! assert_eq!(avro["fields"][0]["type"], "bytes");
//! assert_eq!(avro["fields"][1]["type"]["type"], "fixed");
//! assert_eq!(avro["fields"][1]["type"]["size"], 32);
//! assert_eq!(avro["fields"][2]["type"]["logicalType"], "decimal");
//! assert_eq!(avro["fields"][2]["type"]["precision"], 10);
//!
//! let price = Decimal::<10, 2>::from_unscaled(-1999);
//! assert_eq!(price.to_unscaled(), Some(-1999));
//! # Ok::<(), herald::SchemaError>(())
//! ```

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The JSON Schema keyword whose value is the Avro type a schema exports as.
pub(crate) const AVRO_KEYWORD: &str = "x-avro";

/// A byte string, exported as Avro `bytes`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bytes(pub Vec<u8>);

/// Exactly `N` bytes, exported as an Avro `fixed` of size `N`.
///
/// A `fixed` is a named Avro type: the exporter names it after the type that holds it, so
/// wrap it in a newtype (`struct Sha256(Fixed<32>);`) to give it a name of its own, or it is
/// named after the field like an anonymous record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fixed<const N: usize>(pub [u8; N]);

/// A decimal number of at most `PRECISION` digits, `SCALE` of them after the point, exported
/// as Avro `bytes` with logical type `decimal`. It holds the unscaled value as Avro does: a
/// big-endian two's-complement integer (`12.34` at scale 2 is `1234`).
///
/// apache-avro refuses to write a value shorter than the precision needs (5 bytes for 10
/// digits); [`Decimal::from_unscaled`] writes exactly that many. Equality compares the
/// bytes, so the same number sign-extended to another width is a different value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Decimal<const PRECISION: u32, const SCALE: u32>(pub Vec<u8>);

impl From<Vec<u8>> for Bytes {
    fn from(bytes: Vec<u8>) -> Self {
        Bytes(bytes)
    }
}

impl From<&[u8]> for Bytes {
    fn from(bytes: &[u8]) -> Self {
        Bytes(bytes.to_vec())
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl<const N: usize> Default for Fixed<N> {
    fn default() -> Self {
        Fixed([0; N])
    }
}

impl<const N: usize> From<[u8; N]> for Fixed<N> {
    fn from(bytes: [u8; N]) -> Self {
        Fixed(bytes)
    }
}

impl<const N: usize> AsRef<[u8]> for Fixed<N> {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl<const PRECISION: u32, const SCALE: u32> Decimal<PRECISION, SCALE> {
    /// The number of bytes Avro needs for `PRECISION` digits.
    fn width() -> usize {
        let digits = f64::from(PRECISION);
        // The smallest n with 2^(8n - 1) > 10^digits.
        let bits = digits * std::f64::consts::LOG2_10 + 1.0;
        ((bits / 8.0).ceil() as usize).clamp(1, 16)
    }

    /// The decimal whose unscaled value is `unscaled` (`1234` is `12.34` at scale 2),
    /// sign-extended to the width `PRECISION` needs (or wider, never truncated, when the
    /// value has more digits than `PRECISION`).
    pub fn from_unscaled(unscaled: i128) -> Self {
        let bytes = unscaled.to_be_bytes();
        let fill = if unscaled < 0 { 0xff } else { 0 };
        // The shortest two's-complement form: drop sign bytes the next byte repeats.
        let mut start = 0;
        while start + 1 < bytes.len()
            && bytes[start] == fill
            && (bytes[start + 1] & 0x80 == fill & 0x80)
        {
            start += 1;
        }
        let start = start.min(bytes.len() - Self::width());
        Decimal(bytes[start..].to_vec())
    }

    /// The unscaled value, or `None` when it does not fit an `i128`.
    pub fn to_unscaled(&self) -> Option<i128> {
        let first = *self.0.first()?;
        let fill = if first & 0x80 == 0 { 0 } else { 0xff };
        let mut bytes = [fill; 16];
        let start = 16usize.checked_sub(self.0.len())?;
        bytes[start..].copy_from_slice(&self.0);
        Some(i128::from_be_bytes(bytes))
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<const N: usize> Serialize for Fixed<N> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<const PRECISION: u32, const SCALE: u32> Serialize for Decimal<PRECISION, SCALE> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

/// Reads a byte string from bytes or a sequence of byte values (never from a string, so
/// that an untagged enum tells a `string` branch from a `bytes` one).
struct ByteVisitor(Option<usize>);

impl<'de> Visitor<'de> for ByteVisitor {
    type Value = Vec<u8>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(n) => write!(f, "{n} bytes (an array of {n} integers from 0 to 255)"),
            None => f.write_str("bytes (an array of integers from 0 to 255)"),
        }
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
        Ok(v.to_vec())
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Self::Value, E> {
        Ok(v)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(byte) = seq.next_element::<u8>()? {
            out.push(byte);
        }
        Ok(out)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_bytes(ByteVisitor(None)).map(Bytes)
    }
}

impl<'de, const N: usize> Deserialize<'de> for Fixed<N> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let bytes = deserializer.deserialize_bytes(ByteVisitor(Some(N)))?;
        let len = bytes.len();
        <[u8; N]>::try_from(bytes)
            .map(Fixed)
            .map_err(|_| de::Error::invalid_length(len, &ByteVisitor(Some(N))))
    }
}

impl<'de, const PRECISION: u32, const SCALE: u32> Deserialize<'de> for Decimal<PRECISION, SCALE> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_bytes(ByteVisitor(None))
            .map(Decimal)
    }
}

fn byte_array(avro: serde_json::Value, len: Option<usize>) -> Schema {
    let mut schema = json_schema!({
        "type": "array",
        "items": { "type": "integer", "minimum": 0, "maximum": 255 },
    });
    if let Some(len) = len {
        schema.insert("minItems".to_owned(), len.into());
        schema.insert("maxItems".to_owned(), len.into());
    }
    schema.insert(AVRO_KEYWORD.to_owned(), avro);
    schema
}

impl JsonSchema for Bytes {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Bytes".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        byte_array("bytes".into(), None)
    }
}

impl<const N: usize> JsonSchema for Fixed<N> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        format!("Fixed{N}").into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        byte_array(serde_json::json!({ "type": "fixed", "size": N }), Some(N))
    }
}

impl<const PRECISION: u32, const SCALE: u32> JsonSchema for Decimal<PRECISION, SCALE> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        format!("Decimal{PRECISION}_{SCALE}").into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        byte_array(
            serde_json::json!({
                "type": "bytes",
                "logicalType": "decimal",
                "precision": PRECISION,
                "scale": SCALE,
            }),
            None,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_an_array_of_byte_values() {
        let bytes = Bytes(vec![104, 105]);
        assert_eq!(serde_json::to_string(&bytes).unwrap(), "[104,105]");
        assert_eq!(serde_json::from_str::<Bytes>("[104,105]").unwrap(), bytes);
        let value = serde_json::json!([1, 2, 3]);
        assert_eq!(
            serde_json::from_value::<Fixed<3>>(value.clone()).unwrap(),
            Fixed([1, 2, 3])
        );
        assert!(serde_json::from_value::<Fixed<4>>(value).is_err());
        assert!(serde_json::from_str::<Bytes>("[256]").is_err());
    }

    #[test]
    fn decimals_are_sign_extended_to_the_precision() {
        let d = Decimal::<10, 2>::from_unscaled(-1999);
        assert_eq!(d.0.len(), 5);
        assert_eq!(d.to_unscaled(), Some(-1999));
        assert_eq!(Decimal::<2, 0>::from_unscaled(99).0, vec![99]);
        assert_eq!(Decimal::<38, 0>::from_unscaled(1).0.len(), 16);
        assert_eq!(Decimal::<10, 2>(vec![0x01, 0x00]).to_unscaled(), Some(256));
        assert_eq!(Decimal::<10, 2>(Vec::new()).to_unscaled(), None);
        // Too many digits for the precision: wider, not truncated.
        assert_eq!(Decimal::<2, 0>::from_unscaled(1000).0, vec![0x03, 0xe8]);
        assert_eq!(Decimal::<2, 0>::from_unscaled(-1).0, vec![0xff]);
    }
}
