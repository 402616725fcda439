//! A clip's frames as they are taken, in a file of their own, so that a
//! power cut in the middle of a clip loses at most its last GOP.
//!
//! The MP4 muxer writes its index (`moov`) only at the end: a clip cut off
//! by a power failure is a `.partial` file no player opens. Next to it the
//! recorder keeps this journal — every frame appended as a checksummed
//! record, the file synced at each keyframe (once per GOP) — and after an
//! unclean stop, recovery muxes the journal's intact frames into the clip
//! the unit would have written had the alarm ended there.
//!
//! The file is `PKTCLIP1` followed by media records
//! ([`picket_proto::media`]: length, CRC-32, the frame), the format the
//! live uplink uses too.
//!
//! Reading stops at the first record that is short or fails its checksum
//! (the tail a power cut tore); everything before it is intact.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use picket_proto::media::{self, MediaFrame};

use super::frame::Frame;

const MAGIC: &[u8; 8] = b"PKTCLIP1";

/// A journal could not be written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// A file operation failed.
    #[error("clip journal {path}: {source}")]
    Io {
        /// The journal.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not a journal (or of a newer format).
    #[error("{0} is not a clip journal this agent reads")]
    NotAJournal(PathBuf),
}

/// The journal of the clip being written.
#[derive(Debug)]
pub struct JournalWriter {
    file: BufWriter<File>,
    path: PathBuf,
}

impl JournalWriter {
    /// Creates the journal at `path` (replacing any old one).
    pub fn create(path: impl Into<PathBuf>) -> Result<JournalWriter, JournalError> {
        let path = path.into();
        let io = |source| JournalError::Io {
            path: path.clone(),
            source,
        };
        let file = File::create(&path).map_err(io)?;
        let mut file = BufWriter::with_capacity(256 << 10, file);
        file.write_all(MAGIC).map_err(io)?;
        Ok(JournalWriter { file, path })
    }

    /// Appends `frame`. A keyframe makes everything before it durable
    /// first: a power cut then loses at most the GOP being written.
    pub fn append(&mut self, frame: &Frame) -> Result<(), JournalError> {
        if frame.is_key() {
            self.sync()?;
        }
        let mut record = Vec::with_capacity(frame.data().len() + 64);
        media::encode(&MediaFrame::from(frame), &mut record).map_err(|e| JournalError::Io {
            path: self.path.clone(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, e),
        })?;
        self.file
            .write_all(&record)
            .map_err(|source| JournalError::Io {
                path: self.path.clone(),
                source,
            })
    }

    /// Writes out and syncs what was appended.
    pub fn sync(&mut self) -> Result<(), JournalError> {
        let io = |source| JournalError::Io {
            path: self.path.clone(),
            source,
        };
        self.file.flush().map_err(io)?;
        self.file.get_ref().sync_data().map_err(io)
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The clip is safely in its MP4: the journal goes.
    pub fn remove(self) -> Result<(), JournalError> {
        let path = self.path.clone();
        drop(self.file);
        std::fs::remove_file(&path).map_err(|source| JournalError::Io { path, source })
    }
}

/// Reads a journal's intact frames one at a time; stops at the end or at
/// the first torn or corrupt record ([`JournalReader::torn`] says which).
#[derive(Debug)]
pub struct JournalReader {
    file: File,
    /// Read but not yet decoded.
    buffer: Vec<u8>,
    /// Where the undecoded bytes start in `buffer`.
    at: usize,
    eof: bool,
    torn: bool,
}

impl JournalReader {
    /// Opens the journal at `path`.
    pub fn open(path: &Path) -> Result<JournalReader, JournalError> {
        let io = |source| JournalError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = File::open(path).map_err(io)?;
        let mut magic = [0u8; 8];
        let got = read_full(&mut file, &mut magic).map_err(io)?;
        let mut reader = JournalReader {
            file,
            buffer: Vec::new(),
            at: 0,
            eof: false,
            torn: false,
        };
        if got < magic.len() {
            // Cut before its header: a journal with no frames.
            reader.torn = true;
        } else if &magic != MAGIC {
            return Err(JournalError::NotAJournal(path.to_path_buf()));
        }
        Ok(reader)
    }

    /// Whether reading stopped at a torn or corrupt record rather than a
    /// clean end (meaningful once `next` returned `None`).
    pub fn torn(&self) -> bool {
        self.torn
    }

    /// Reads more of the file into the buffer; false at its end.
    fn fill(&mut self) -> bool {
        if self.eof {
            return false;
        }
        self.buffer.drain(..self.at);
        self.at = 0;
        let start = self.buffer.len();
        self.buffer.resize(start + READ_CHUNK, 0);
        let got = read_full(&mut self.file, &mut self.buffer[start..]).unwrap_or(0);
        self.buffer.truncate(start + got);
        if got == 0 {
            self.eof = true;
        }
        got > 0
    }
}

/// How much of the file is read at a time.
const READ_CHUNK: usize = 256 << 10;

/// Reads until `buf` is full or the end; how many bytes it read.
fn read_full(file: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

impl Iterator for JournalReader {
    type Item = Frame;

    fn next(&mut self) -> Option<Frame> {
        while !self.torn {
            match media::decode(&self.buffer[self.at..]) {
                Ok(Some((frame, used))) => {
                    self.at += used;
                    match Frame::try_from(frame) {
                        Ok(frame) => return Some(frame),
                        Err(_) => self.torn = true,
                    }
                }
                Ok(None) => {
                    if !self.fill() {
                        // The end: clean only if nothing is left over.
                        self.torn = self.at < self.buffer.len();
                        return None;
                    }
                }
                Err(_) => self.torn = true,
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use jiff::Timestamp;

    use super::*;
    use crate::video::frame::{Codec, ParameterSets};

    fn frames() -> Vec<Frame> {
        let at = Timestamp::from_second(1_800_000_000).unwrap();
        let key = |n: i64, codec: Codec| {
            let params = match codec {
                Codec::H264 => ParameterSets::H264 {
                    sps: Bytes::from_static(&[0x67, 0x42, 0xc0, 0x1e]),
                    pps: Bytes::from_static(&[0x68, 0xce]),
                },
                Codec::H265 => ParameterSets::H265 {
                    vps: Bytes::from_static(&[0x40, 0x01]),
                    sps: Bytes::from_static(&[0x42, 0x01, 0x01]),
                    pps: Bytes::from_static(&[0x44, 0x01]),
                },
            };
            Frame::key(
                at + jiff::SignedDuration::from_millis(40 * n),
                params,
                Bytes::from(vec![n as u8; 100 + n as usize]),
            )
        };
        let delta = |n: i64| {
            Frame::delta(
                at + jiff::SignedDuration::from_nanos(40_000_123 * n),
                Codec::H264,
                Bytes::from(vec![n as u8; 50]),
            )
        };
        vec![
            key(0, Codec::H264),
            delta(1),
            delta(2),
            key(3, Codec::H264),
            delta(4),
            key(5, Codec::H265),
        ]
    }

    fn write(dir: &Path, frames: &[Frame]) -> PathBuf {
        let mut journal = JournalWriter::create(dir.join("a.frames")).unwrap();
        for f in frames {
            journal.append(f).unwrap();
        }
        journal.sync().unwrap();
        journal.path().to_path_buf()
    }

    #[test]
    fn frames_read_back_as_they_were_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), &frames());
        let mut reader = JournalReader::open(&path).unwrap();
        let back: Vec<Frame> = reader.by_ref().collect();
        assert_eq!(back, frames());
        assert!(!reader.torn());
    }

    #[test]
    fn a_torn_tail_keeps_every_whole_record_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), &frames());
        let full = std::fs::read(&path).unwrap();
        // Where records end: a cut there is a clean (shorter) journal.
        let mut ends = vec![8];
        while *ends.last().unwrap() < full.len() {
            let at = *ends.last().unwrap();
            let len = u32::from_le_bytes(full[at..at + 4].try_into().unwrap()) as usize;
            ends.push(at + 8 + len);
        }
        // Cut at every length: the intact prefix is always what comes back.
        let mut last = 0;
        for cut in 0..full.len() {
            std::fs::write(&path, &full[..cut]).unwrap();
            let mut reader = JournalReader::open(&path).unwrap();
            let back: Vec<Frame> = reader.by_ref().collect();
            assert_eq!(back[..], frames()[..back.len()], "cut at {cut}");
            assert!(back.len() >= last, "cut at {cut}");
            last = back.len();
            assert_eq!(reader.torn(), !ends.contains(&cut), "cut at {cut}");
            assert_eq!(
                back.len(),
                ends.iter().filter(|&&e| e <= cut).count().saturating_sub(1)
            );
        }
        assert_eq!(last, frames().len() - 1);
    }

    #[test]
    fn a_corrupt_record_ends_the_journal_there() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), &frames());
        let mut bytes = std::fs::read(&path).unwrap();
        // Flip a byte in the third record's payload.
        let mut at = 8;
        for _ in 0..2 {
            let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
            at += 8 + len;
        }
        bytes[at + 20] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        let mut reader = JournalReader::open(&path).unwrap();
        assert_eq!(reader.by_ref().count(), 2);
        assert!(reader.torn());
    }

    #[test]
    fn another_file_is_refused_and_an_empty_one_has_no_frames() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x");
        std::fs::write(&path, b"ftypisom and more").unwrap();
        assert!(matches!(
            JournalReader::open(&path),
            Err(JournalError::NotAJournal(_))
        ));
        std::fs::write(&path, b"PKT").unwrap();
        assert_eq!(JournalReader::open(&path).unwrap().count(), 0);
    }
}
