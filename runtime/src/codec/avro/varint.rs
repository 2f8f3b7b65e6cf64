//! Avro's zig-zag variable-length integers and length-prefixed bytes.

use super::error::AvroError;

/// Appends `v` as a zig-zag varint (an Avro `int` or `long`: both encode alike).
#[inline]
pub(crate) fn write_long(out: &mut Vec<u8>, v: i64) {
    let mut n = ((v << 1) ^ (v >> 63)) as u64;
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Appends `bytes` with their length first (Avro `bytes` and `string`).
#[inline]
pub(crate) fn write_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    write_long(out, bytes.len() as i64);
    out.extend_from_slice(bytes);
}

/// A datum being read.
pub(crate) struct Input<'a> {
    bytes: &'a [u8],
    /// How deep the decoder is in nested records, arrays, maps and unions.
    pub(crate) depth: usize,
}

impl<'a> Input<'a> {
    #[inline]
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Input { bytes, depth: 0 }
    }

    /// The bytes not read yet.
    #[inline]
    pub(crate) fn rest(&self) -> usize {
        self.bytes.len()
    }

    #[inline]
    pub(crate) fn long(&mut self) -> Result<i64, AvroError> {
        // Most integers (lengths, counts, branch indexes) fit in one byte.
        if let Some((&byte, tail)) = self.bytes.split_first()
            && byte < 0x80
        {
            self.bytes = tail;
            return Ok(i64::from(byte >> 1) ^ -i64::from(byte & 1));
        }
        let mut n: u64 = 0;
        for (i, &byte) in self.bytes.iter().enumerate().take(10) {
            n |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                self.bytes = &self.bytes[i + 1..];
                return Ok(((n >> 1) as i64) ^ -((n & 1) as i64));
            }
        }
        Err(if self.bytes.len() < 10 {
            AvroError::Eof
        } else {
            AvroError::Varint
        })
    }

    #[inline]
    pub(crate) fn int(&mut self) -> Result<i32, AvroError> {
        let v = self.long()?;
        i32::try_from(v).map_err(|_| AvroError::OutOfRange(v))
    }

    /// A non-negative length.
    #[inline]
    pub(crate) fn len(&mut self) -> Result<usize, AvroError> {
        usize::try_from(self.long()?).map_err(|_| AvroError::Varint)
    }

    #[inline]
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], AvroError> {
        if n > self.bytes.len() {
            return Err(AvroError::Eof);
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    #[inline]
    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], AvroError> {
        let n = self.len()?;
        self.take(n)
    }

    #[inline]
    pub(crate) fn str(&mut self) -> Result<&'a str, AvroError> {
        std::str::from_utf8(self.bytes()?).map_err(|_| AvroError::Utf8)
    }

    #[inline]
    pub(crate) fn boolean(&mut self) -> Result<bool, AvroError> {
        match self.take(1)?[0] {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(AvroError::Boolean(other)),
        }
    }

    #[inline]
    pub(crate) fn float(&mut self) -> Result<f32, AvroError> {
        let mut raw = [0; 4];
        raw.copy_from_slice(self.take(4)?);
        Ok(f32::from_le_bytes(raw))
    }

    #[inline]
    pub(crate) fn double(&mut self) -> Result<f64, AvroError> {
        let mut raw = [0; 8];
        raw.copy_from_slice(self.take(8)?);
        Ok(f64::from_le_bytes(raw))
    }

    /// The count of the next block of an array or map (0 at the end); a negative count is
    /// followed by the block's size in bytes, which is read and dropped.
    #[inline]
    pub(crate) fn block(&mut self) -> Result<usize, AvroError> {
        let count = self.long()?;
        if count < 0 {
            self.long()?;
        }
        usize::try_from(count.unsigned_abs()).map_err(|_| AvroError::Varint)
    }
}
