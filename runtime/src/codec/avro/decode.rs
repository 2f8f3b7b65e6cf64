//! A serde `Deserializer` that reads Avro binary straight into the value, following a
//! resolved reading plan ([`Steps`]).

use serde::de::value::StrDeserializer;
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;

use super::error::AvroError;
use super::graph::{Graph, Node, NodeId};
use super::resolve::{DefaultField, FieldStep, RecordStep, Side, Step, StepId, Steps};
use super::varint::Input;

/// How deep records, arrays, maps and unions may nest in a datum (recursive types).
const MAX_DEPTH: usize = 256;

/// What a decoder reads with: the plan and the graphs its skips refer to.
#[derive(Clone, Copy)]
pub(crate) struct Plan<'p> {
    pub(crate) steps: &'p Steps,
    pub(crate) writer: &'p Graph,
    pub(crate) reader: &'p Graph,
}

/// Deserializes one value by one step of the plan.
pub(crate) struct Decoder<'p, 'i, 'a> {
    plan: Plan<'p>,
    input: &'i mut Input<'a>,
    step: StepId,
}

impl<'p, 'i, 'a> Decoder<'p, 'i, 'a> {
    /// A decoder of the plan's root.
    pub(crate) fn new(plan: Plan<'p>, input: &'i mut Input<'a>) -> Self {
        let step = plan.steps.root;
        Decoder { plan, input, step }
    }

    #[inline]
    fn step(&self) -> &'p Step {
        // Step ids come from the resolver, which only hands out ids of pushed steps.
        &self.plan.steps.steps[self.step]
    }

    /// Follows unions to the step of the branch the datum holds.
    #[inline]
    fn through_unions(&mut self) -> Result<&'p Step, AvroError> {
        loop {
            match self.step() {
                Step::Union(branches) => {
                    let index = self.input.long()?;
                    self.step = usize::try_from(index)
                        .ok()
                        .and_then(|i| branches.get(i).copied())
                        .ok_or(AvroError::Branch(index))?;
                }
                step => return Ok(step),
            }
        }
    }

    #[inline]
    fn nested<T>(
        &mut self,
        read: impl FnOnce(&mut Self) -> Result<T, AvroError>,
    ) -> Result<T, AvroError> {
        self.input.depth += 1;
        if self.input.depth > MAX_DEPTH {
            return Err(AvroError::Depth(MAX_DEPTH));
        }
        let result = read(self);
        self.input.depth -= 1;
        result
    }
}

impl<'de> de::Deserializer<'de> for Decoder<'_, '_, '_> {
    type Error = AvroError;

    fn deserialize_any<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, AvroError> {
        match self.through_unions()? {
            Step::Null => visitor.visit_unit(),
            Step::Boolean => visitor.visit_bool(self.input.boolean()?),
            Step::Int => visitor.visit_i32(self.input.int()?),
            Step::Long => visitor.visit_i64(self.input.long()?),
            Step::Float => visitor.visit_f32(self.input.float()?),
            Step::Double => visitor.visit_f64(self.input.double()?),
            Step::IntAsLong => visitor.visit_i64(i64::from(self.input.int()?)),
            Step::IntAsFloat => visitor.visit_f32(self.input.int()? as f32),
            Step::IntAsDouble => visitor.visit_f64(f64::from(self.input.int()?)),
            Step::LongAsFloat => visitor.visit_f32(self.input.long()? as f32),
            Step::LongAsDouble => visitor.visit_f64(self.input.long()? as f64),
            Step::FloatAsDouble => visitor.visit_f64(f64::from(self.input.float()?)),
            Step::Bytes | Step::StringAsBytes => visitor.visit_bytes(self.input.bytes()?),
            Step::String | Step::BytesAsString => visitor.visit_str(self.input.str()?),
            &Step::Fixed(size) => visitor.visit_bytes(self.input.take(size)?),
            Step::Enum(symbols) => visitor.visit_str(symbol(symbols, self.input.long()?)?),
            &Step::Array(items) => self.nested(|this| {
                visitor.visit_seq(Blocks {
                    plan: this.plan,
                    input: &mut *this.input,
                    step: items,
                    left: 0,
                    done: false,
                })
            }),
            &Step::Map(values) => self.nested(|this| {
                visitor.visit_map(Blocks {
                    plan: this.plan,
                    input: &mut *this.input,
                    step: values,
                    left: 0,
                    done: false,
                })
            }),
            Step::Record(record) => self.nested(|this| {
                visitor.visit_map(Fields {
                    plan: this.plan,
                    input: &mut *this.input,
                    record,
                    next: 0,
                    value: Pending::None,
                })
            }),
            Step::Fail(message) => Err(AvroError::Resolution(message.clone())),
            Step::Union(_) => Err(AvroError::Resolution(
                "a union directly in a union".to_owned(),
            )),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, AvroError> {
        match self.through_unions()? {
            Step::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        mut self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, AvroError> {
        match self.through_unions()? {
            Step::Enum(symbols) => {
                let symbol = symbol(symbols, self.input.long()?)?;
                visitor.visit_enum(symbol.into_deserializer())
            }
            Step::String | Step::BytesAsString => {
                let symbol = self.input.str()?;
                visitor.visit_enum(symbol.into_deserializer())
            }
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        mut self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, AvroError> {
        match self.through_unions()? {
            Step::Record(record) if record.reads_in_order(fields) => self.nested(|this| {
                visitor.visit_seq(InOrder {
                    plan: this.plan,
                    input: &mut *this.input,
                    record,
                    next: 0,
                })
            }),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, AvroError> {
        visitor.visit_newtype_struct(self)
    }

    fn is_human_readable(&self) -> bool {
        // As the encoder, so that a type reads what it wrote.
        false
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple
        tuple_struct map identifier ignored_any
    }
}

#[inline]
fn symbol(symbols: &[Option<String>], index: i64) -> Result<&str, AvroError> {
    usize::try_from(index)
        .ok()
        .and_then(|i| symbols.get(i))
        .ok_or(AvroError::Symbol(index))?
        .as_deref()
        .ok_or_else(|| {
            AvroError::Resolution(format!(
                "the writer's enum symbol {index} is not in the reader's enum, which has no default"
            ))
        })
}

/// A record's fields read as a sequence, when the struct's fields are the writer's in order.
struct InOrder<'p, 'i, 'a> {
    plan: Plan<'p>,
    input: &'i mut Input<'a>,
    record: &'p RecordStep,
    next: usize,
}

impl<'de> de::SeqAccess<'de> for InOrder<'_, '_, '_> {
    type Error = AvroError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, AvroError> {
        match self.record.fields.get(self.next) {
            Some(&FieldStep::Read { step, .. }) => {
                self.next += 1;
                seed.deserialize(Decoder {
                    plan: self.plan,
                    input: &mut *self.input,
                    step,
                })
                .map(Some)
            }
            // `reads_in_order` admits no skipped field.
            Some(FieldStep::Skip(..)) | None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.record.fields.len() - self.next)
    }
}

/// An array's items or a map's entries, block by block.
struct Blocks<'p, 'i, 'a> {
    plan: Plan<'p>,
    input: &'i mut Input<'a>,
    step: StepId,
    left: usize,
    done: bool,
}

impl Blocks<'_, '_, '_> {
    /// Whether another item follows (reading the next block's count when one ends).
    #[inline]
    fn more(&mut self) -> Result<bool, AvroError> {
        if self.left == 0 && !self.done {
            self.left = self.input.block()?;
            self.done = self.left == 0;
        }
        if self.done {
            return Ok(false);
        }
        self.left -= 1;
        Ok(true)
    }

    fn value<'de, T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, AvroError> {
        seed.deserialize(Decoder {
            plan: self.plan,
            input: &mut *self.input,
            step: self.step,
        })
    }
}

impl<'de> de::SeqAccess<'de> for Blocks<'_, '_, '_> {
    type Error = AvroError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, AvroError> {
        if !self.more()? {
            return Ok(None);
        }
        self.value(seed).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

impl<'de> de::MapAccess<'de> for Blocks<'_, '_, '_> {
    type Error = AvroError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, AvroError> {
        if !self.more()? {
            return Ok(None);
        }
        let key: StrDeserializer<'_, AvroError> = self.input.str()?.into_deserializer();
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, AvroError> {
        self.value(seed)
    }
}

/// The value the last key announced.
enum Pending<'p> {
    None,
    Field(StepId),
    Default(&'p DefaultField),
}

/// A record's fields: the writer's in order (skipping those the reader lacks), then the
/// reader's defaults.
struct Fields<'p, 'i, 'a> {
    plan: Plan<'p>,
    input: &'i mut Input<'a>,
    record: &'p RecordStep,
    next: usize,
    value: Pending<'p>,
}

impl<'de> de::MapAccess<'de> for Fields<'_, '_, '_> {
    type Error = AvroError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, AvroError> {
        let record = self.record;
        while let Some(field) = record.fields.get(self.next) {
            self.next += 1;
            match field {
                FieldStep::Read { name, step } => {
                    self.value = Pending::Field(*step);
                    return seed.deserialize(key(name)).map(Some);
                }
                &FieldStep::Skip(side, node) => {
                    let graph = match side {
                        Side::Writer => self.plan.writer,
                        Side::Reader => self.plan.reader,
                    };
                    skip(graph, node, self.input)?;
                }
            }
        }
        match record.defaults.get(self.next - record.fields.len()) {
            Some(default) => {
                self.next += 1;
                self.value = Pending::Default(default);
                seed.deserialize(key(&default.name)).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, AvroError> {
        match std::mem::replace(&mut self.value, Pending::None) {
            Pending::Field(step) => seed.deserialize(Decoder {
                plan: self.plan,
                input: &mut *self.input,
                step,
            }),
            Pending::Default(default) => {
                let mut input = Input::new(&default.bytes);
                input.depth = self.input.depth;
                seed.deserialize(Decoder {
                    plan: self.plan,
                    input: &mut input,
                    step: default.step,
                })
            }
            Pending::None => Err(AvroError::Custom(
                "a record value asked for before its key".to_owned(),
            )),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.record.fields.len() + self.record.defaults.len())
    }
}

#[inline]
fn key(name: &str) -> StrDeserializer<'_, AvroError> {
    name.into_deserializer()
}

/// Reads past a datum of `node`.
fn skip(graph: &Graph, node: NodeId, input: &mut Input<'_>) -> Result<(), AvroError> {
    match graph.node(node) {
        Node::Null => {}
        Node::Boolean => {
            input.take(1)?;
        }
        Node::Int | Node::Long | Node::Enum(_) => {
            input.long()?;
        }
        Node::Float => {
            input.take(4)?;
        }
        Node::Double => {
            input.take(8)?;
        }
        Node::Bytes | Node::String => {
            input.bytes()?;
        }
        &Node::Fixed { size, .. } => {
            input.take(size)?;
        }
        &Node::Array(items) => skip_blocks(graph, input, |graph, input| skip(graph, items, input))?,
        &Node::Map(values) => skip_blocks(graph, input, |graph, input| {
            input.bytes()?;
            skip(graph, values, input)
        })?,
        Node::Union(union) => {
            let index = input.long()?;
            let branch = usize::try_from(index)
                .ok()
                .and_then(|i| union.branches.get(i).copied())
                .ok_or(AvroError::Branch(index))?;
            deeper(input, |input| skip(graph, branch, input))?;
        }
        Node::Record(record) => deeper(input, |input| {
            record
                .fields
                .iter()
                .try_for_each(|field| skip(graph, field.node, input))
        })?,
    }
    Ok(())
}

fn deeper(
    input: &mut Input<'_>,
    read: impl FnOnce(&mut Input<'_>) -> Result<(), AvroError>,
) -> Result<(), AvroError> {
    input.depth += 1;
    if input.depth > MAX_DEPTH {
        return Err(AvroError::Depth(MAX_DEPTH));
    }
    let result = read(input);
    input.depth -= 1;
    result
}

/// Skips an array's or a map's blocks, jumping over those that give their size in bytes.
fn skip_blocks(
    graph: &Graph,
    input: &mut Input<'_>,
    item: impl Fn(&Graph, &mut Input<'_>) -> Result<(), AvroError>,
) -> Result<(), AvroError> {
    deeper(input, |input| {
        loop {
            let count = input.long()?;
            if count == 0 {
                return Ok(());
            }
            if count < 0 {
                let size = input.len()?;
                input.take(size)?;
                continue;
            }
            for _ in 0..count {
                item(graph, input)?;
            }
        }
    })
}
