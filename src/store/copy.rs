//! PostgreSQL's binary `COPY` format, for bulk writes that skip SQL parsing and the
//! per-row work of `UNNEST` (https://www.postgresql.org/docs/15/sql-copy.html).

use chrono::{DateTime, Utc};

/// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01 00:00:00 UTC).
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// A `COPY ... FROM STDIN (FORMAT binary)` payload, built row by row.
pub struct BinaryCopy {
    buf: Vec<u8>,
}

impl BinaryCopy {
    /// An empty payload (the header only), with room for about `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        let mut buf = Vec::with_capacity(capacity + 21);
        buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        buf.extend_from_slice(&0_i32.to_be_bytes()); // flags: no OIDs
        buf.extend_from_slice(&0_i32.to_be_bytes()); // no header extension
        Self { buf }
    }

    /// Starts a row of `fields` values; the values follow in column order.
    pub fn row(&mut self, fields: i16) -> &mut Self {
        self.buf.extend_from_slice(&fields.to_be_bytes());
        self
    }

    fn value(&mut self, bytes: &[u8]) -> &mut Self {
        // A field longer than 2 GiB cannot be sent in one COPY row anyway; the request
        // body limit keeps every value far below it.
        let len = i32::try_from(bytes.len()).unwrap_or(i32::MAX);
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.extend_from_slice(bytes);
        self
    }

    pub fn text(&mut self, value: &str) -> &mut Self {
        self.value(value.as_bytes())
    }

    pub fn opt_text(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            Some(v) => self.text(v),
            None => {
                self.buf.extend_from_slice(&(-1_i32).to_be_bytes());
                self
            }
        }
    }

    pub fn int8(&mut self, value: i64) -> &mut Self {
        self.value(&value.to_be_bytes())
    }

    pub fn int4(&mut self, value: i32) -> &mut Self {
        self.value(&value.to_be_bytes())
    }

    pub fn bool(&mut self, value: bool) -> &mut Self {
        self.value(&[u8::from(value)])
    }

    pub fn timestamptz(&mut self, value: DateTime<Utc>) -> &mut Self {
        self.int8(value.timestamp_micros() - PG_EPOCH_MICROS)
    }

    /// The bytes so far, leaving the payload empty (to send a long payload in parts; the
    /// first part carries the header).
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    /// How many bytes are waiting.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The payload with its trailer.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.extend_from_slice(&(-1_i16).to_be_bytes());
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_rows_and_trailer() {
        let mut copy = BinaryCopy::with_capacity(0);
        let epoch = DateTime::parse_from_rfc3339("2000-01-01T00:00:01Z")
            .expect("date")
            .with_timezone(&Utc);
        copy.row(4)
            .text("ab")
            .opt_text(None)
            .bool(true)
            .timestamptz(epoch);
        let bytes = copy.finish();
        let mut expected = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0".to_vec();
        expected.extend_from_slice(&[0, 4, 0, 0, 0, 2, b'a', b'b', 0xff, 0xff, 0xff, 0xff]);
        expected.extend_from_slice(&[0, 0, 0, 1, 1, 0, 0, 0, 8]);
        expected.extend_from_slice(&1_000_000_i64.to_be_bytes());
        expected.extend_from_slice(&[0xff, 0xff]);
        assert_eq!(bytes, expected);
    }
}
