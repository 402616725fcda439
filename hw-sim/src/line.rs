//! Splitting a byte stream into bounded lines, for both ends of the
//! protocol.
//!
//! [`LineBuffer`] is the pure part (bytes in, lines out); [`LineReader`]
//! drives it from a socket. A line longer than the limit is never held in
//! memory: its bytes are counted and dropped up to the next newline, and it
//! comes out as [`Line::TooLong`] so the caller can answer and carry on.

use tokio::io::{AsyncRead, AsyncReadExt};

/// One line, or why it is not usable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    /// A line of text, without its newline.
    Text(String),
    /// A line over the limit; its bytes were dropped.
    TooLong {
        /// Its length without the newline.
        bytes: usize,
    },
    /// A line that is not UTF-8.
    NotUtf8,
}

/// Bytes in, bounded lines out. Holds at most the limit plus one pushed
/// chunk.
#[derive(Debug)]
pub struct LineBuffer {
    max: usize,
    buf: Vec<u8>,
    /// Bytes dropped so far from an over-long line, while skipping to its end.
    skipped: Option<usize>,
}

impl LineBuffer {
    /// A buffer accepting lines of up to `max` bytes (newline excluded).
    pub fn new(max: usize) -> Self {
        Self {
            max,
            buf: Vec::new(),
            skipped: None,
        }
    }

    /// Appends bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete line, if the buffer holds one. Call until `None`
    /// before pushing more, so the buffer stays bounded.
    pub fn next_line(&mut self) -> Option<Line> {
        let Some(end) = self.buf.iter().position(|&b| b == b'\n') else {
            if self.buf.len() > self.max {
                // No newline within the limit: drop what we have, count it.
                *self.skipped.get_or_insert(0) += self.buf.len();
                self.buf.clear();
            }
            return None;
        };
        let mut bytes: Vec<u8> = self.buf.drain(..=end).collect();
        bytes.pop();
        Some(self.finish_line(bytes))
    }

    /// At end of stream: the unterminated rest, if any, as a last line.
    pub fn finish(&mut self) -> Option<Line> {
        if self.buf.is_empty() && self.skipped.is_none() {
            return None;
        }
        let bytes = std::mem::take(&mut self.buf);
        Some(self.finish_line(bytes))
    }

    fn finish_line(&mut self, bytes: Vec<u8>) -> Line {
        let len = self.skipped.take().unwrap_or(0) + bytes.len();
        if len > self.max {
            return Line::TooLong { bytes: len };
        }
        match String::from_utf8(bytes) {
            Ok(text) => Line::Text(text),
            Err(_) => Line::NotUtf8,
        }
    }
}

/// Reads bounded lines from an async stream.
///
/// [`LineReader::next_line`] is cancel safe: all state lives in the reader,
/// so it can be a branch of `tokio::select!` without losing bytes.
#[derive(Debug)]
pub struct LineReader<R> {
    reader: R,
    buffer: LineBuffer,
    eof: bool,
}

impl<R: AsyncRead + Unpin> LineReader<R> {
    /// Reads lines of up to `max` bytes from `reader`.
    pub fn new(reader: R, max: usize) -> Self {
        Self {
            reader,
            buffer: LineBuffer::new(max),
            eof: false,
        }
    }

    /// The next line, or `None` at end of stream.
    pub async fn next_line(&mut self) -> std::io::Result<Option<Line>> {
        loop {
            if let Some(line) = self.buffer.next_line() {
                return Ok(Some(line));
            }
            if self.eof {
                return Ok(self.buffer.finish());
            }
            let mut chunk = [0u8; 4096];
            let n = self.reader.read(&mut chunk).await?;
            if n == 0 {
                self.eof = true;
            } else {
                self.buffer.push(&chunk[..n]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(buffer: &mut LineBuffer) -> Vec<Line> {
        std::iter::from_fn(|| buffer.next_line()).collect()
    }

    #[test]
    fn splits_lines_across_pushes() {
        let mut b = LineBuffer::new(10);
        b.push(b"ab");
        assert_eq!(lines(&mut b), []);
        b.push(b"c\nde\n\nf");
        assert_eq!(
            lines(&mut b),
            [
                Line::Text("abc".into()),
                Line::Text("de".into()),
                Line::Text(String::new())
            ]
        );
        assert_eq!(b.finish(), Some(Line::Text("f".into())));
        assert_eq!(b.finish(), None);
    }

    #[test]
    fn over_long_line_is_dropped_and_counted_then_reading_goes_on() {
        let mut b = LineBuffer::new(4);
        b.push(b"0123456");
        assert_eq!(lines(&mut b), []);
        assert!(b.buf.is_empty(), "over-long bytes are not kept");
        b.push(b"789\nok\n");
        assert_eq!(
            lines(&mut b),
            [Line::TooLong { bytes: 10 }, Line::Text("ok".into())]
        );
    }

    #[test]
    fn exactly_the_limit_is_accepted() {
        let mut b = LineBuffer::new(4);
        b.push(b"abcd\nabcde\n");
        assert_eq!(
            lines(&mut b),
            [Line::Text("abcd".into()), Line::TooLong { bytes: 5 }]
        );
    }

    #[test]
    fn invalid_utf8_is_reported() {
        let mut b = LineBuffer::new(8);
        b.push(b"\xff\xfe\n");
        assert_eq!(lines(&mut b), [Line::NotUtf8]);
    }

    #[tokio::test]
    async fn reader_reads_until_eof() {
        let data: &[u8] = b"one\ntwo";
        let mut r = LineReader::new(data, 16);
        assert_eq!(r.next_line().await.unwrap(), Some(Line::Text("one".into())));
        assert_eq!(r.next_line().await.unwrap(), Some(Line::Text("two".into())));
        assert_eq!(r.next_line().await.unwrap(), None);
    }
}
