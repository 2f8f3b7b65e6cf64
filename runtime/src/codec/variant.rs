//! Adapters that present one enum variant as a payload of its own.
//!
//! A user's `#[derive(Serialize, Deserialize)]` enum is externally tagged: serde asks the
//! format for an enum and then for the variant's content. [`VariantSerializer`] answers the
//! first question by dropping the tag, so only the content reaches the format;
//! [`VariantDeserializer`] names the variant itself (the event type already told which one)
//! and hands the format's deserializer over for the content. No intermediate value is built.

use serde::de::{self, DeserializeSeed, IgnoredAny, IntoDeserializer, Visitor};
use serde::ser::{self, Impossible, Serialize, SerializeStruct, SerializeStructVariant};
use serde::{Deserializer, Serializer, forward_to_deserialize_any};

const NOT_A_VARIANT: &str = "a Herald event enum must serialize as an externally tagged enum variant (remove `#[serde(tag)]`, `#[serde(untagged)]` and custom `Serialize` impls)";

/// Serializes a variant's content only.
pub(crate) struct VariantSerializer<S>(S);

impl<S> VariantSerializer<S> {
    pub(crate) fn new(inner: S) -> Self {
        VariantSerializer(inner)
    }
}

fn not_a_variant<E: ser::Error>() -> E {
    E::custom(NOT_A_VARIANT)
}

/// Forwards a struct variant's fields to the format's struct serializer.
pub(crate) struct StructFields<S>(S);

impl<S: SerializeStruct> SerializeStructVariant for StructFields<S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Self::Error> {
        self.0.serialize_field(key, value)
    }

    fn skip_field(&mut self, key: &'static str) -> Result<(), Self::Error> {
        self.0.skip_field(key)
    }

    fn end(self) -> Result<Self::Ok, Self::Error> {
        self.0.end()
    }
}

macro_rules! reject {
    ($($method:ident($($arg:ty),*);)*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<Self::Ok, Self::Error> {
            Err(not_a_variant())
        })*
    };
}

impl<S: Serializer> Serializer for VariantSerializer<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Impossible<S::Ok, S::Error>;
    type SerializeTuple = Impossible<S::Ok, S::Error>;
    type SerializeTupleStruct = Impossible<S::Ok, S::Error>;
    type SerializeTupleVariant = Impossible<S::Ok, S::Error>;
    type SerializeMap = Impossible<S::Ok, S::Error>;
    type SerializeStruct = Impossible<S::Ok, S::Error>;
    type SerializeStructVariant = StructFields<S::SerializeStruct>;

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Self::Ok, Self::Error> {
        self.0.serialize_struct(variant, 0)?.end()
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        value: &T,
    ) -> Result<Self::Ok, Self::Error> {
        value.serialize(self.0)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, Self::Error> {
        self.0.serialize_struct(variant, len).map(StructFields)
    }

    reject! {
        serialize_bool(bool);
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_f32(f32);
        serialize_f64(f64);
        serialize_char(char);
        serialize_str(&str);
        serialize_bytes(&[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(&'static str);
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<Self::Ok, Self::Error> {
        Err(not_a_variant())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<Self::Ok, Self::Error> {
        Err(not_a_variant())
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Self::Error> {
        Err(not_a_variant())
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Self::Error> {
        Err(not_a_variant())
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Self::Error> {
        Err(not_a_variant())
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Self::Error> {
        Err(not_a_variant())
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Self::Error> {
        Err(not_a_variant())
    }

    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, Self::Error> {
        Err(not_a_variant())
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

/// Deserializes the content of the variant at a known position.
pub(crate) struct VariantDeserializer<D> {
    variant: usize,
    inner: D,
}

impl<D> VariantDeserializer<D> {
    pub(crate) fn new(variant: usize, inner: D) -> Self {
        VariantDeserializer { variant, inner }
    }
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for VariantDeserializer<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom(NOT_A_VARIANT))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        // The name only labels the struct for formats that care; the variant is chosen by its
        // index, which serde's derive accepts and which does not shift with aliases.
        let name = variants.get(self.variant).copied().unwrap_or("");
        visitor.visit_enum(KnownVariant {
            index: self.variant as u64,
            name,
            inner: self.inner,
        })
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

/// The enum access for a variant chosen by the event type.
struct KnownVariant<D> {
    index: u64,
    name: &'static str,
    inner: D,
}

impl<'de, D: Deserializer<'de>> de::EnumAccess<'de> for KnownVariant<D> {
    type Error = D::Error;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), Self::Error> {
        let tag: de::value::U64Deserializer<D::Error> = self.index.into_deserializer();
        let value = seed.deserialize(tag)?;
        Ok((value, self))
    }
}

impl<'de, D: Deserializer<'de>> de::VariantAccess<'de> for KnownVariant<D> {
    type Error = D::Error;

    fn unit_variant(self) -> Result<(), Self::Error> {
        self.inner.deserialize_ignored_any(IgnoredAny).map(|_| ())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, Self::Error> {
        seed.deserialize(self.inner)
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.inner.deserialize_tuple(len, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.inner.deserialize_struct(self.name, fields, visitor)
    }
}

/// The serde names of an enum's variants, in declaration order, as its `Deserialize` impl
/// announces them (after `#[serde(rename)]`/`rename_all`).
pub(crate) fn serde_variant_names<'de, T: de::Deserialize<'de>>() -> Option<&'static [&'static str]>
{
    let mut found = None;
    let _ = T::deserialize(VariantNames(&mut found));
    found
}

struct VariantNames<'a>(&'a mut Option<&'static [&'static str]>);

impl<'de> Deserializer<'de> for VariantNames<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not an enum"))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = Some(variants);
        Err(de::Error::custom("variant names recorded"))
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}
