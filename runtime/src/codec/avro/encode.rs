//! A serde `Serializer` that writes Avro binary straight from the value, guided by the
//! compiled writer schema.

use serde::Serialize;
use serde::ser::{self, Impossible};

use super::error::AvroError;
use super::graph::{Graph, Kind, Node, NodeId, RecordNode};
use super::varint::{write_bytes, write_long};

/// Writes `value` as a datum of `graph`'s root into `out`.
pub(crate) fn write<T: Serialize + ?Sized>(
    graph: &Graph,
    value: &T,
    out: &mut Vec<u8>,
) -> Result<(), AvroError> {
    value.serialize(Encoder {
        graph,
        out,
        node: graph.root,
    })
}

/// Serializes one value as a datum of `node`.
pub(crate) struct Encoder<'g, 'o> {
    graph: &'g Graph,
    out: &'o mut Vec<u8>,
    node: NodeId,
}

impl<'g, 'o> Encoder<'g, 'o> {
    /// The node a value of `kind` is written as: a union writes the branch index and gives
    /// the branch, anything else is itself.
    #[inline]
    fn branch(&mut self, kind: Kind) -> Result<&'g Node, AvroError> {
        let graph = self.graph;
        match graph.node(self.node) {
            Node::Union(union) => {
                let index = union.by_kind[kind as usize].ok_or(AvroError::Mismatch {
                    value: kind_name(kind),
                    schema: "union without a matching branch",
                })?;
                write_long(self.out, index as i64);
                Ok(graph.node(union.branches[index]))
            }
            node => Ok(node),
        }
    }

    #[inline]
    fn long(mut self, kind: Kind, v: i64) -> Result<(), AvroError> {
        match self.branch(kind)? {
            Node::Int => {
                i32::try_from(v).map_err(|_| AvroError::OutOfRange(v))?;
                write_long(self.out, v);
            }
            Node::Long => write_long(self.out, v),
            Node::Float => self.out.extend_from_slice(&(v as f32).to_le_bytes()),
            Node::Double => self.out.extend_from_slice(&(v as f64).to_le_bytes()),
            node => return Err(mismatch(kind, node)),
        }
        Ok(())
    }

    #[inline]
    fn double(mut self, kind: Kind, v: f64) -> Result<(), AvroError> {
        match self.branch(kind)? {
            Node::Float => self.out.extend_from_slice(&(v as f32).to_le_bytes()),
            Node::Double => self.out.extend_from_slice(&v.to_le_bytes()),
            node => return Err(mismatch(kind, node)),
        }
        Ok(())
    }

    /// The node of the value's content: the branch for a union node chosen by `kind`.
    fn content(mut self, kind: Kind) -> Result<(&'g Node, Self), AvroError> {
        let node = self.branch(kind)?;
        Ok((node, self))
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Null => "null",
        Kind::Boolean => "boolean",
        Kind::Int => "int",
        Kind::Long => "long",
        Kind::Float => "float",
        Kind::Double => "double",
        Kind::Bytes => "byte string",
        Kind::String => "string",
        Kind::Seq => "sequence",
        Kind::Map => "map",
        Kind::Record => "struct",
    }
}

fn mismatch(kind: Kind, node: &Node) -> AvroError {
    AvroError::Mismatch {
        value: kind_name(kind),
        schema: node.type_name(),
    }
}

impl<'g, 'o> ser::Serializer for Encoder<'g, 'o> {
    type Ok = ();
    type Error = AvroError;
    type SerializeSeq = Blocks<'g, 'o>;
    type SerializeTuple = Impossible<(), AvroError>;
    type SerializeTupleStruct = Impossible<(), AvroError>;
    type SerializeTupleVariant = Impossible<(), AvroError>;
    type SerializeMap = Blocks<'g, 'o>;
    type SerializeStruct = Fields<'g, 'o>;
    type SerializeStructVariant = Impossible<(), AvroError>;

    fn serialize_bool(mut self, v: bool) -> Result<(), AvroError> {
        match self.branch(Kind::Boolean)? {
            Node::Boolean => {
                self.out.push(u8::from(v));
                Ok(())
            }
            node => Err(mismatch(Kind::Boolean, node)),
        }
    }

    fn serialize_i8(self, v: i8) -> Result<(), AvroError> {
        self.long(Kind::Int, i64::from(v))
    }

    fn serialize_i16(self, v: i16) -> Result<(), AvroError> {
        self.long(Kind::Int, i64::from(v))
    }

    fn serialize_i32(self, v: i32) -> Result<(), AvroError> {
        self.long(Kind::Int, i64::from(v))
    }

    fn serialize_i64(self, v: i64) -> Result<(), AvroError> {
        self.long(Kind::Long, v)
    }

    fn serialize_u8(self, v: u8) -> Result<(), AvroError> {
        self.long(Kind::Int, i64::from(v))
    }

    fn serialize_u16(self, v: u16) -> Result<(), AvroError> {
        self.long(Kind::Int, i64::from(v))
    }

    fn serialize_u32(self, v: u32) -> Result<(), AvroError> {
        // apache-avro makes an `int` of a `u32` that fits one, a `long` otherwise.
        match i32::try_from(v) {
            Ok(small) => self.long(Kind::Int, i64::from(small)),
            Err(_) => self.long(Kind::Long, i64::from(v)),
        }
    }

    fn serialize_u64(self, v: u64) -> Result<(), AvroError> {
        let v = i64::try_from(v).map_err(|_| AvroError::Mismatch {
            value: "u64 above i64::MAX",
            schema: "long",
        })?;
        self.long(Kind::Long, v)
    }

    fn serialize_f32(self, v: f32) -> Result<(), AvroError> {
        self.double(Kind::Float, f64::from(v))
    }

    fn serialize_f64(self, v: f64) -> Result<(), AvroError> {
        self.double(Kind::Double, v)
    }

    fn serialize_char(self, v: char) -> Result<(), AvroError> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(mut self, v: &str) -> Result<(), AvroError> {
        match self.branch(Kind::String)? {
            Node::String | Node::Bytes => write_bytes(self.out, v.as_bytes()),
            Node::Enum(schema) => {
                let index = schema
                    .symbols
                    .iter()
                    .position(|symbol| symbol == v)
                    .ok_or_else(|| AvroError::UnknownSymbol(v.to_owned()))?;
                write_long(self.out, index as i64);
            }
            node => return Err(mismatch(Kind::String, node)),
        }
        Ok(())
    }

    fn serialize_bytes(mut self, v: &[u8]) -> Result<(), AvroError> {
        match self.branch(Kind::Bytes)? {
            Node::Bytes => write_bytes(self.out, v),
            Node::String => {
                std::str::from_utf8(v).map_err(|_| AvroError::Utf8)?;
                write_bytes(self.out, v);
            }
            &Node::Fixed { size, decimal } => {
                if v.len() == size {
                    self.out.extend_from_slice(v);
                } else if decimal && !v.is_empty() && v.len() < size {
                    // A shorter two's complement number, sign-extended as apache-avro does.
                    let sign = if v[0] & 0x80 != 0 { 0xff } else { 0 };
                    self.out.resize(self.out.len() + size - v.len(), sign);
                    self.out.extend_from_slice(v);
                } else {
                    return Err(AvroError::FixedSize {
                        size,
                        found: v.len(),
                    });
                }
            }
            node => return Err(mismatch(Kind::Bytes, node)),
        }
        Ok(())
    }

    fn serialize_none(mut self) -> Result<(), AvroError> {
        match self.branch(Kind::Null)? {
            Node::Null => Ok(()),
            node => Err(mismatch(Kind::Null, node)),
        }
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), AvroError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), AvroError> {
        self.serialize_none()
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), AvroError> {
        self.serialize_none()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), AvroError> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), AvroError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), AvroError> {
        Err(unsupported("an enum variant with data"))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Blocks<'g, 'o>, AvroError> {
        let (node, encoder) = self.content(Kind::Seq)?;
        match node {
            &Node::Array(items) => Ok(Blocks::start(encoder.graph, encoder.out, items, len)),
            node => Err(mismatch(Kind::Seq, node)),
        }
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, AvroError> {
        Err(unsupported("a tuple"))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, AvroError> {
        Err(unsupported("a tuple struct"))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, AvroError> {
        Err(unsupported("an enum variant with data"))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Blocks<'g, 'o>, AvroError> {
        let (node, encoder) = self.content(Kind::Map)?;
        match node {
            &Node::Map(values) => Ok(Blocks::start(encoder.graph, encoder.out, values, len)),
            node => Err(mismatch(Kind::Map, node)),
        }
    }

    fn serialize_struct(
        self,
        name: &'static str,
        _len: usize,
    ) -> Result<Fields<'g, 'o>, AvroError> {
        let graph = self.graph;
        let node = match graph.node(self.node) {
            Node::Union(union) => {
                // A struct goes to the record branch of its name, else the first record.
                let index = union
                    .records
                    .iter()
                    .find(|(record, _)| record == name)
                    .map(|&(_, index)| index)
                    .or(union.by_kind[Kind::Record as usize])
                    .ok_or(AvroError::Mismatch {
                        value: "struct",
                        schema: "union without a record",
                    })?;
                write_long(self.out, index as i64);
                graph.node(union.branches[index])
            }
            node => node,
        };
        match node {
            Node::Record(record) => Ok(Fields {
                graph,
                out: self.out,
                record,
                next: 0,
                pending: None,
            }),
            node => Err(mismatch(Kind::Record, node)),
        }
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, AvroError> {
        Err(unsupported("an enum variant with data"))
    }

    fn is_human_readable(&self) -> bool {
        // As apache-avro's serializer by default, so that both write the same bytes.
        false
    }
}

fn unsupported(what: &'static str) -> AvroError {
    AvroError::Mismatch {
        value: what,
        schema: "any type of Herald's mapping",
    }
}

/// An array's or a map's items, written as one block: the count, the items, then `0`.
/// A sequence of unknown length is gathered first to learn its count.
pub(crate) struct Blocks<'g, 'o> {
    graph: &'g Graph,
    out: &'o mut Vec<u8>,
    items: NodeId,
    /// Items gathered when the length was not known up front, and their count.
    gathered: Option<(Vec<u8>, usize)>,
}

impl<'g, 'o> Blocks<'g, 'o> {
    fn start(graph: &'g Graph, out: &'o mut Vec<u8>, items: NodeId, len: Option<usize>) -> Self {
        let gathered = match len {
            Some(0) => None,
            Some(len) => {
                write_long(out, len as i64);
                None
            }
            None => Some((Vec::new(), 0)),
        };
        Blocks {
            graph,
            out,
            items,
            gathered,
        }
    }

    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), AvroError> {
        let out = match &mut self.gathered {
            Some((buffer, count)) => {
                *count += 1;
                buffer
            }
            None => &mut *self.out,
        };
        value.serialize(Encoder {
            graph: self.graph,
            out,
            node: self.items,
        })
    }

    fn finish(self) -> Result<(), AvroError> {
        if let Some((buffer, count)) = self.gathered
            && count > 0
        {
            write_long(self.out, count as i64);
            self.out.extend_from_slice(&buffer);
        }
        self.out.push(0);
        Ok(())
    }
}

impl ser::SerializeSeq for Blocks<'_, '_> {
    type Ok = ();
    type Error = AvroError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), AvroError> {
        self.item(value)
    }

    fn end(self) -> Result<(), AvroError> {
        self.finish()
    }
}

impl ser::SerializeMap for Blocks<'_, '_> {
    type Ok = ();
    type Error = AvroError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), AvroError> {
        let out = match &mut self.gathered {
            Some((buffer, count)) => {
                *count += 1;
                buffer
            }
            None => &mut *self.out,
        };
        // Avro map keys are strings.
        key.serialize(Encoder {
            graph: self.graph,
            out,
            node: self.graph.string,
        })
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), AvroError> {
        let out = match &mut self.gathered {
            Some((buffer, _)) => buffer,
            None => &mut *self.out,
        };
        value.serialize(Encoder {
            graph: self.graph,
            out,
            node: self.items,
        })
    }

    fn end(self) -> Result<(), AvroError> {
        self.finish()
    }
}

/// A struct's fields, written straight out while they come in schema order. A field out of
/// order (a skipped field, a reordered struct) switches to gathering each remaining field on
/// its own, written in schema order at the end with defaults for those never given.
pub(crate) struct Fields<'g, 'o> {
    graph: &'g Graph,
    out: &'o mut Vec<u8>,
    record: &'g RecordNode,
    next: usize,
    pending: Option<Vec<Option<Vec<u8>>>>,
}

impl ser::SerializeStruct for Fields<'_, '_> {
    type Ok = ();
    type Error = AvroError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), AvroError> {
        let fields = &self.record.fields;
        if self.pending.is_none() {
            if let Some(field) = fields.get(self.next)
                && field.name == key
            {
                self.next += 1;
                return value.serialize(Encoder {
                    graph: self.graph,
                    out: self.out,
                    node: field.node,
                });
            }
            self.pending = Some((0..fields.len()).map(|_| None).collect());
        }
        let Some(position) = fields.iter().position(|field| field.name == key) else {
            // A field the schema does not have is not written, as apache-avro's resolution
            // drops it.
            return Ok(());
        };
        if position < self.next {
            return Err(AvroError::Custom(format!("field `{key}` given twice")));
        }
        let mut buffer = Vec::new();
        value.serialize(Encoder {
            graph: self.graph,
            out: &mut buffer,
            node: fields[position].node,
        })?;
        if let Some(pending) = &mut self.pending {
            pending[position] = Some(buffer);
        }
        Ok(())
    }

    fn end(self) -> Result<(), AvroError> {
        let fields = &self.record.fields;
        let mut pending = self.pending.unwrap_or_default();
        for (position, field) in fields.iter().enumerate().skip(self.next) {
            let bytes = pending
                .get_mut(position)
                .and_then(Option::take)
                .or_else(|| field.default.clone())
                .ok_or_else(|| {
                    AvroError::Custom(format!(
                        "field `{}` is missing and has no default",
                        field.name
                    ))
                })?;
            self.out.extend_from_slice(&bytes);
        }
        Ok(())
    }
}
