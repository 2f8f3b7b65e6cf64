//! The Confluent wire format: how Kafka clients frame a payload with the registry id of the
//! schema it was written with.
//!
//! Every framed message starts with the magic byte `0x00` and the schema's registry id as a
//! big-endian `u32`. For Avro and JSON Schema the payload follows; a value of an Avro
//! union is a union datum, its branch index first ([`frame_avro_union`]). For Protobuf a
//! *message-index array* comes first: a `.proto` file can hold several messages, and the
//! array says which one the payload is, as a path of indexes (the second top-level message
//! is `[1]`, its first nested message `[1, 0]`). It is written as a count and the indexes,
//! each a zigzag varint; the single byte `0x00` stands for `[0]`, the first top-level
//! message, the common case.
//!
//! ```
//! use herald::wire::{self, WireError};
//!
//! let framed = wire::frame_protobuf(7, &[1, 0, 2], b"\x08\x01");
//! assert_eq!(framed, [0, 0, 0, 0, 7, 6, 2, 0, 4, 8, 1]);
//! let frame = wire::unframe_protobuf(&framed)?;
//! assert_eq!((frame.schema_id, frame.message_indexes, frame.payload), (7, vec![1, 0, 2], &[8, 1][..]));
//!
//! // The first message of the file is one zero byte.
//! assert_eq!(wire::frame_protobuf(7, &[0], b""), [0, 0, 0, 0, 7, 0]);
//! assert_eq!(wire::unframe(b"{}"), Err(WireError::NotFramed));
//! # Ok::<(), WireError>(())
//! ```

/// The first byte of every framed message.
pub const MAGIC_BYTE: u8 = 0;

/// Why a message is not a valid Confluent-framed message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The message is shorter than five bytes or does not start with the magic byte.
    #[error("not in the Confluent wire format (no magic byte 0 and 4-byte schema id)")]
    NotFramed,
    /// The message ends inside the message-index array.
    #[error("the message-index array is truncated")]
    Truncated,
    /// A varint of the message-index array does not fit 32 bits.
    #[error("a varint of the message-index array does not fit 32 bits")]
    VarintTooLong,
    /// The message-index array's count is negative or larger than the bytes that follow.
    #[error("invalid message-index count {0}")]
    InvalidCount(i64),
    /// A message index is negative.
    #[error("invalid message index {0}")]
    InvalidIndex(i32),
}

/// A Protobuf message split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtobufFrame<'a> {
    /// The registry id of the schema the message was written with.
    pub schema_id: u32,
    /// The path of the message type in the schema's file (`[0]`: its first message).
    pub message_indexes: Vec<i32>,
    /// The Protobuf-encoded message.
    pub payload: &'a [u8],
}

/// Frames an Avro or JSON payload: `0x00`, `schema_id` as big-endian `u32`, `payload`.
pub fn frame(schema_id: u32, payload: &[u8]) -> Vec<u8> {
    let mut framed = Vec::with_capacity(payload.len() + 5);
    framed.push(MAGIC_BYTE);
    framed.extend_from_slice(&schema_id.to_be_bytes());
    framed.extend_from_slice(payload);
    framed
}

/// Frames an Avro union datum: `0x00`, `schema_id` as big-endian `u32`, the index of the
/// union's branch as an Avro `long` (a zigzag varint: branch 0 is `0x00`, branch 1 `0x02`),
/// then `payload`, a datum of that branch. This is what Confluent's Avro serializers write
/// for a value of a union schema.
pub fn frame_avro_union(schema_id: u32, branch: u32, payload: &[u8]) -> Vec<u8> {
    let mut framed = frame(schema_id, &[]);
    framed.reserve(payload.len() + 5);
    let mut value = u64::from(branch) << 1;
    while value >= 0x80 {
        framed.push((value & 0x7f) as u8 | 0x80);
        value >>= 7;
    }
    framed.push(value as u8);
    framed.extend_from_slice(payload);
    framed
}

/// Splits a framed Avro or JSON message into its schema id and payload.
pub fn unframe(message: &[u8]) -> Result<(u32, &[u8]), WireError> {
    match message {
        [MAGIC_BYTE, a, b, c, d, payload @ ..] => {
            Ok((u32::from_be_bytes([*a, *b, *c, *d]), payload))
        }
        _ => Err(WireError::NotFramed),
    }
}

/// Frames a Protobuf payload: `0x00`, `schema_id`, the message-index array, `payload`. An
/// empty `message_indexes` is written as `[0]`, the file's first message.
pub fn frame_protobuf(schema_id: u32, message_indexes: &[i32], payload: &[u8]) -> Vec<u8> {
    let mut framed = frame(schema_id, &[]);
    framed.reserve(payload.len() + 1 + message_indexes.len());
    if message_indexes.len() <= 1 && message_indexes.first().copied().unwrap_or(0) == 0 {
        framed.push(0);
    } else {
        // A slice of `i32`s has fewer than 2^31 elements on every platform Rust supports
        // with this much memory; saturate rather than wrap if it ever had more.
        write_zigzag(
            &mut framed,
            i32::try_from(message_indexes.len()).unwrap_or(i32::MAX),
        );
        for &index in message_indexes {
            write_zigzag(&mut framed, index);
        }
    }
    framed.extend_from_slice(payload);
    framed
}

/// Splits a framed Protobuf message into its schema id, message indexes and payload.
pub fn unframe_protobuf(message: &[u8]) -> Result<ProtobufFrame<'_>, WireError> {
    let (schema_id, mut rest) = unframe(message)?;
    let count = read_zigzag(&mut rest)?;
    if count == 0 {
        return Ok(ProtobufFrame {
            schema_id,
            message_indexes: vec![0],
            payload: rest,
        });
    }
    // Every index takes at least one byte: a count beyond the remaining bytes is invalid
    // and must not size an allocation.
    let count = usize::try_from(count)
        .ok()
        .filter(|&count| count <= rest.len())
        .ok_or(WireError::InvalidCount(i64::from(count)))?;
    let mut message_indexes = Vec::with_capacity(count);
    for _ in 0..count {
        let index = read_zigzag(&mut rest)?;
        if index < 0 {
            return Err(WireError::InvalidIndex(index));
        }
        message_indexes.push(index);
    }
    Ok(ProtobufFrame {
        schema_id,
        message_indexes,
        payload: rest,
    })
}

fn write_zigzag(out: &mut Vec<u8>, value: i32) {
    let mut value = ((value << 1) ^ (value >> 31)) as u32;
    while value >= 0x80 {
        out.push((value & 0x7f) as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Reads one zigzag varint of at most 32 bits from the front of `input`.
fn read_zigzag(input: &mut &[u8]) -> Result<i32, WireError> {
    let mut value: u32 = 0;
    for (i, &byte) in input.iter().enumerate() {
        // The fifth byte holds the top four bits; more is not a 32-bit varint.
        if i == 4 && byte > 0x0f {
            return Err(WireError::VarintTooLong);
        }
        value |= u32::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            *input = &input[i + 1..];
            return Ok(((value >> 1) as i32) ^ -((value & 1) as i32));
        }
    }
    Err(WireError::Truncated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avro_union_branches_are_zigzag_longs() {
        assert_eq!(frame_avro_union(7, 0, b"r"), [0, 0, 0, 0, 7, 0, b'r']);
        assert_eq!(frame_avro_union(7, 1, b"r"), [0, 0, 0, 0, 7, 2, b'r']);
        assert_eq!(frame_avro_union(7, 64, b""), [0, 0, 0, 0, 7, 0x80, 0x01]);
        assert_eq!(
            frame_avro_union(7, u32::MAX, b""),
            [0, 0, 0, 0, 7, 0xfe, 0xff, 0xff, 0xff, 0x1f]
        );
    }

    #[test]
    fn the_first_message_is_one_zero_byte() {
        assert_eq!(frame_protobuf(1, &[0], b"x"), [0, 0, 0, 0, 1, 0, b'x']);
        assert_eq!(frame_protobuf(1, &[], b"x"), [0, 0, 0, 0, 1, 0, b'x']);
        let frame = unframe_protobuf(&[0, 0, 0, 0, 1, 0, b'x']).unwrap();
        assert_eq!(frame.message_indexes, [0]);
        assert_eq!(frame.payload, b"x");
        // The long form of [0] (count 1, index 0) reads as the same path.
        let long = unframe_protobuf(&[0, 0, 0, 0, 1, 2, 0, b'x']).unwrap();
        assert_eq!(long.message_indexes, [0]);
        assert_eq!(long.payload, b"x");
    }

    #[test]
    fn nested_indexes_round_trip() {
        let framed = frame_protobuf(0x0102_0304, &[1, 0, 2], &[0x0a, 0x01, 0x41]);
        assert_eq!(framed, [0, 1, 2, 3, 4, 6, 2, 0, 4, 0x0a, 0x01, 0x41]);
        let frame = unframe_protobuf(&framed).unwrap();
        assert_eq!(frame.schema_id, 0x0102_0304);
        assert_eq!(frame.message_indexes, [1, 0, 2]);
        assert_eq!(frame.payload, [0x0a, 0x01, 0x41]);
        // Large indexes take several varint bytes.
        for indexes in [vec![64], vec![300, 0], vec![i32::MAX, 7]] {
            let framed = frame_protobuf(9, &indexes, b"");
            assert_eq!(unframe_protobuf(&framed).unwrap().message_indexes, indexes);
        }
    }

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Messages framed by Confluent's Python `ProtobufSerializer` (confluent-kafka 2.16.1)
    /// against `herald serve`, as `registry/tests/interop/protobuf_client.py` wrote them to
    /// `registry/tests/interop/protobuf_messages.json`: an `acme.orders.Order`, the file's
    /// first message, and an `acme.orders.Shipment.Route.Depot`, at `[1, 0, 2]`.
    #[test]
    fn messages_framed_by_confluents_python_serializer() {
        let order = hex(
            "0000000002000a036f2d31120d0a03455552100c1880cab5ee011a080880e2cfaa06100522170a05736b\
             752d3110021a0c0a0345555210061880e59a772802320e0a076368616e6e656c12037765623a0d61406578\
             616d706c652e636f6d480552030001ff59000000000000f83f",
        );
        let frame = unframe_protobuf(&order).unwrap();
        assert_eq!(frame.schema_id, 2);
        assert_eq!(frame.message_indexes, [0]);
        assert_eq!(&frame.payload[..5], b"\x0a\x03o-1");
        assert_eq!(frame.payload.len(), order.len() - 6);
        assert_eq!(frame_protobuf(2, &[0], frame.payload), order);

        let depot = hex(
            "0000000002060200040a054245522d3112080a064265726c696e12090a0748616d627572671a060880a0f8fa05",
        );
        let frame = unframe_protobuf(&depot).unwrap();
        assert_eq!(frame.schema_id, 2);
        assert_eq!(frame.message_indexes, [1, 0, 2]);
        assert_eq!(&frame.payload[..7], b"\x0a\x05BER-1");
        assert_eq!(frame_protobuf(2, &[1, 0, 2], frame.payload), depot);
    }

    #[test]
    fn avro_and_json_framing() {
        assert_eq!(frame(258, b"{}"), [0, 0, 0, 1, 2, b'{', b'}']);
        assert_eq!(unframe(&[0, 0, 0, 1, 2]), Ok((258, &[][..])));
        assert_eq!(unframe(b"{}"), Err(WireError::NotFramed));
        assert_eq!(unframe(&[1, 0, 0, 0, 1, 0]), Err(WireError::NotFramed));
        assert_eq!(unframe(&[0, 0, 0, 1]), Err(WireError::NotFramed));
    }

    #[test]
    fn invalid_input_is_an_error() {
        let header = [0u8, 0, 0, 0, 5];
        let with = |tail: &[u8]| [&header[..], tail].concat();
        assert_eq!(unframe_protobuf(&header), Err(WireError::Truncated));
        assert_eq!(unframe_protobuf(&with(&[0x80])), Err(WireError::Truncated));
        // Count 3 with only two indexes.
        assert_eq!(
            unframe_protobuf(&with(&[6, 2, 4])),
            Err(WireError::InvalidCount(3))
        );
        // Count 2, then a truncated varint.
        assert_eq!(
            unframe_protobuf(&with(&[4, 2, 0x80])),
            Err(WireError::Truncated)
        );
        // Negative count and index (zigzag 1 is -1).
        assert_eq!(
            unframe_protobuf(&with(&[1, 2])),
            Err(WireError::InvalidCount(-1))
        );
        assert_eq!(
            unframe_protobuf(&with(&[2, 1])),
            Err(WireError::InvalidIndex(-1))
        );
        // A count of 2^31 - 1 must not allocate.
        assert_eq!(
            unframe_protobuf(&with(&[0xfe, 0xff, 0xff, 0xff, 0x0f])),
            Err(WireError::InvalidCount(i64::from(i32::MAX)))
        );
        // Six varint bytes, or a fifth byte beyond 32 bits.
        assert_eq!(
            unframe_protobuf(&with(&[0xff, 0xff, 0xff, 0xff, 0xff, 0x01])),
            Err(WireError::VarintTooLong)
        );
        assert_eq!(
            unframe_protobuf(&with(&[0x80, 0x80, 0x80, 0x80, 0x10])),
            Err(WireError::VarintTooLong)
        );
        assert_eq!(unframe_protobuf(b"\x01"), Err(WireError::NotFramed));
    }
}
