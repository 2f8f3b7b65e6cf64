//! The declaration order of record fields, as the types' `Deserialize` impls announce it.
//!
//! schemars writes `properties` into a `serde_json::Map`, which this workspace keeps sorted,
//! so the JSON Schema no longer tells in which order a struct declares its fields. serde's
//! derive does: `deserialize_struct` and `struct_variant` receive the field names in
//! declaration order (after `#[serde(rename)]`/`rename_all`). [`FieldOrder::of`] drives the
//! event type's `Deserialize` impl with a tracing deserializer that hands out placeholder
//! values, recording the field list of the payload record of each variant and of every named
//! struct it reaches. A field whose placeholder value its type refuses (a [`crate::Fixed`]
//! reads no bytes, a custom impl validates) is left out on the next pass, so the structs
//! after it are still reached; a struct the trace cannot reach keeps its fields sorted.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use serde::de::value::{Error, U32Deserializer};
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use serde::{Deserializer, forward_to_deserialize_any};

use crate::event::Event;

/// Passes over one payload at most: each pass leaves out one more field.
const MAX_PASSES: usize = 256;
/// Nesting depth at which the trace gives up (a recursive type without a struct in its cycle).
const MAX_DEPTH: usize = 64;

/// Field names in declaration order, per payload record and per named struct.
#[derive(Debug, Default)]
pub(super) struct FieldOrder {
    /// The payload record's fields, per variant (one entry for a struct event).
    payloads: Vec<Option<&'static [&'static str]>>,
    /// Structs reached from the payloads, by serde name (which schemars uses for `$defs`).
    structs: BTreeMap<&'static str, &'static [&'static str]>,
}

impl FieldOrder {
    /// Traces `E`'s `Deserialize` impl, one payload (variant) at a time.
    pub(super) fn of<E: Event>() -> Self {
        let mut order = FieldOrder::default();
        let payloads = if E::__IS_ENUM {
            E::EVENT_TYPES.len()
        } else {
            1
        };
        for variant in 0..payloads {
            let trace = RefCell::new(Trace::default());
            for _ in 0..MAX_PASSES {
                {
                    let mut state = trace.borrow_mut();
                    state.variant = E::__IS_ENUM.then_some(variant);
                    state.skipped = false;
                    state.last_key = None;
                    state.stack.clear();
                }
                let tracer = Tracer {
                    trace: &trace,
                    depth: 0,
                    top: true,
                };
                if E::deserialize(tracer).is_ok() {
                    break;
                }
                let mut state = trace.borrow_mut();
                if !state.skipped {
                    // Refused after its key (a duplicate through an alias, say), not in its value.
                    match state.last_key.take() {
                        Some(key) if state.skip.insert(key) => {}
                        _ => break,
                    }
                }
            }
            let trace = trace.into_inner();
            order.payloads.push(trace.payload);
            for (name, fields) in trace.structs {
                order.structs.entry(name).or_insert(fields);
            }
        }
        order
    }

    /// The fields of the payload record of the variant at `variant`, if traced.
    pub(super) fn payload(&self, variant: usize) -> Option<&'static [&'static str]> {
        self.payloads.get(variant).copied().flatten()
    }

    /// The fields of the struct `name`, if traced.
    pub(super) fn named(&self, name: &str) -> Option<&'static [&'static str]> {
        self.structs.get(name).copied()
    }
}

/// Sorts `keys` in the order of `declared`; keys it does not list go last, sorted by name.
pub(super) fn sort_keys(keys: &mut [&String], declared: Option<&[&str]>) {
    let declared = declared.unwrap_or_default();
    keys.sort_by_key(|key| {
        let position = declared.iter().position(|name| *name == key.as_str());
        (position.unwrap_or(usize::MAX), key.as_str().to_owned())
    });
}

/// A field, named by its struct's field list (a distinct static per struct) and its name.
type FieldKey = (usize, &'static str);

#[derive(Default)]
struct Trace {
    /// The variant to pick at the top-level enum, taken by its `deserialize_enum`.
    variant: Option<usize>,
    payload: Option<&'static [&'static str]>,
    structs: BTreeMap<&'static str, &'static [&'static str]>,
    /// Names of the structs and enums being read, to cut recursion short.
    stack: Vec<&'static str>,
    /// Fields left out because their type refused the placeholder value.
    skip: BTreeSet<FieldKey>,
    /// Whether this pass already added to `skip`.
    skipped: bool,
    /// The last key handed out whose value has not been asked for yet.
    last_key: Option<FieldKey>,
}

impl Trace {
    /// Whether a type is being read inside itself: containers then stay empty.
    fn recursing(&self) -> bool {
        let mut seen = BTreeSet::new();
        !self.stack.iter().all(|name| seen.insert(*name))
    }
}

/// Answers every request with a placeholder value, recording struct field lists.
struct Tracer<'t> {
    trace: &'t RefCell<Trace>,
    depth: usize,
    /// Whether this value is the payload record (the variant's content or the struct event).
    top: bool,
}

impl<'t> Tracer<'t> {
    fn deeper(&self) -> Result<Self, Error> {
        if self.depth >= MAX_DEPTH {
            return Err(de::Error::custom("the type nests too deeply to trace"));
        }
        Ok(Tracer {
            trace: self.trace,
            depth: self.depth + 1,
            top: false,
        })
    }

    fn recursing(&self) -> bool {
        self.trace.borrow().recursing()
    }

    /// Runs `read` with `name` on the stack.
    fn within<T>(
        &self,
        name: &'static str,
        read: impl FnOnce() -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.trace.borrow_mut().stack.push(name);
        let result = read();
        self.trace.borrow_mut().stack.pop();
        result
    }

    fn fields<'de, V: Visitor<'de>>(
        &self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        if self.top {
            self.trace.borrow_mut().payload.get_or_insert(fields);
        }
        visitor.visit_map(FieldAccess {
            tracer: self.deeper()?,
            owner: fields.as_ptr() as usize,
            fields: fields.iter(),
            current: None,
        })
    }
}

impl<'de> Deserializer<'de> for Tracer<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_bool(false)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_i64(0)
    }

    fn deserialize_i128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_i128(0)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_u64(0)
    }

    fn deserialize_u128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_u128(0)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_f64(0.0)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_char('a')
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_str("")
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_bytes(&[])
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.recursing() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self.deeper()?)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.within(name, || {
            visitor.visit_newtype_struct(self.deeper_keeping_top()?)
        })
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let len = usize::from(!self.recursing());
        visitor.visit_seq(Elements {
            tracer: self.deeper()?,
            left: len,
        })
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_seq(Elements {
            tracer: self.deeper()?,
            left: len,
        })
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_tuple(len, visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let len = usize::from(!self.recursing());
        visitor.visit_map(Entries {
            tracer: self.deeper()?,
            left: len,
        })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.trace
            .borrow_mut()
            .structs
            .entry(name)
            .or_insert(fields);
        self.within(name, || self.fields(fields, visitor))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let chosen = if self.top {
            self.trace.borrow_mut().variant.take()
        } else {
            None
        };
        if chosen.is_none() && self.recursing() {
            return Err(de::Error::custom("a recursive enum"));
        }
        self.within(name, || {
            visitor.visit_enum(Variant {
                index: chosen.unwrap_or(0),
                // The chosen variant's content is the payload; another enum's is not.
                tracer: Tracer {
                    trace: self.trace,
                    depth: self.depth,
                    top: chosen.is_some(),
                },
            })
        })
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        unit unit_struct
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_u64(visitor)
    }

    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_u64(visitor)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_u64(visitor)
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }
}

impl Tracer<'_> {
    /// One level deeper, still the payload when this is (a newtype around the payload).
    fn deeper_keeping_top(&self) -> Result<Self, Error> {
        let mut deeper = self.deeper()?;
        deeper.top = self.top;
        Ok(deeper)
    }
}

/// A struct's fields, each with a placeholder value, less the fields left out.
struct FieldAccess<'t> {
    tracer: Tracer<'t>,
    owner: usize,
    fields: std::slice::Iter<'static, &'static str>,
    current: Option<&'static str>,
}

impl<'de> de::MapAccess<'de> for FieldAccess<'_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let trace = self.tracer.trace;
        let next = self
            .fields
            .by_ref()
            .copied()
            .find(|field| !trace.borrow().skip.contains(&(self.owner, *field)));
        let Some(field) = next else {
            return Ok(None);
        };
        self.current = Some(field);
        trace.borrow_mut().last_key = Some((self.owner, field));
        seed.deserialize(field.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let trace = self.tracer.trace;
        trace.borrow_mut().last_key = None;
        let tracer = Tracer {
            trace,
            depth: self.tracer.depth,
            top: false,
        };
        seed.deserialize(tracer).inspect_err(|_| {
            let mut state = trace.borrow_mut();
            if let (false, Some(field)) = (state.skipped, self.current) {
                state.skip.insert((self.owner, field));
                state.skipped = true;
            }
        })
    }
}

/// A sequence or tuple of placeholder elements.
struct Elements<'t> {
    tracer: Tracer<'t>,
    left: usize,
}

impl<'de> de::SeqAccess<'de> for Elements<'_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(Tracer {
            trace: self.tracer.trace,
            depth: self.tracer.depth,
            top: false,
        })
        .map(Some)
    }
}

/// A map of placeholder entries.
struct Entries<'t> {
    tracer: Tracer<'t>,
    left: usize,
}

impl<'de> de::MapAccess<'de> for Entries<'_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(Tracer {
            trace: self.tracer.trace,
            depth: self.tracer.depth,
            top: false,
        })
        .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        seed.deserialize(Tracer {
            trace: self.tracer.trace,
            depth: self.tracer.depth,
            top: false,
        })
    }
}

/// The variant of an enum the trace reads: the chosen one at the top, the first elsewhere.
struct Variant<'t> {
    index: usize,
    tracer: Tracer<'t>,
}

impl<'de, 't> de::EnumAccess<'de> for Variant<'t> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), Error> {
        let index = u32::try_from(self.index)
            .map_err(|_| <Error as de::Error>::custom("too many variants"))?;
        let tag: U32Deserializer<Error> = index.into_deserializer();
        Ok((seed.deserialize(tag)?, self))
    }
}

impl<'de> de::VariantAccess<'de> for Variant<'_> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        seed.deserialize(self.tracer.deeper_keeping_top()?)
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, Error> {
        self.tracer.deserialize_tuple(len, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        // A struct variant is no named struct: only its place as the payload is recorded.
        self.tracer.fields(fields, visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::sort_keys;

    #[test]
    fn declared_keys_first_then_the_rest_by_name() {
        let (a, b, c, d) = (
            "a".to_owned(),
            "b".to_owned(),
            "c".to_owned(),
            "d".to_owned(),
        );
        let mut keys = vec![&a, &b, &c, &d];
        sort_keys(&mut keys, Some(&["c", "a"]));
        assert_eq!(keys, [&c, &a, &b, &d]);
        sort_keys(&mut keys, None);
        assert_eq!(keys, [&a, &b, &c, &d]);
    }
}
