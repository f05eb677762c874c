//! Reading a text data file, plain or gzip, line by line, with errors that name the line.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};

use crate::{Result, TrainerError};

/// A file's lines (without line endings) and the SHA-256 of its bytes as stored.
#[derive(Debug, Clone)]
pub struct TextFile {
    /// The lines, `\n` or `\r\n` removed.
    pub lines: Vec<String>,
    /// Hex SHA-256 of the file as it is on disk (compressed, if it is).
    pub sha256: String,
}

/// Reads `path`, decompressing it when it starts with the gzip magic bytes.
///
/// # Errors
///
/// [`TrainerError::Io`] when the file is missing or unreadable, or a gzip stream is truncated
/// or corrupt; [`TrainerError::Parse`] naming the first line that is not UTF-8.
pub fn read_text_file(path: &Path) -> Result<TextFile> {
    let bytes = std::fs::read(path).map_err(|e| TrainerError::io(path, e))?;
    parse_text(path, &bytes)
}

/// The lines of a file's `bytes` (gzip or plain), errors naming `path`: [`read_text_file`]
/// without the reading, for callers (and fuzzers) that already hold the bytes.
///
/// # Errors
///
/// As [`read_text_file`].
pub fn parse_text(path: &Path, bytes: &[u8]) -> Result<TextFile> {
    let sha256 = hex(&Sha256::digest(bytes));
    let text: Vec<u8> = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        MultiGzDecoder::new(bytes)
            .read_to_end(&mut out)
            .map_err(|e| {
                TrainerError::io(
                    path,
                    std::io::Error::new(
                        e.kind(),
                        format!("gzip data is truncated or corrupt: {e}"),
                    ),
                )
            })?;
        out
    } else {
        bytes.to_vec()
    };
    let mut lines = Vec::new();
    for (i, line) in BufReader::new(&text[..]).split(b'\n').enumerate() {
        let mut line = line.map_err(|e| TrainerError::io(path, e))?;
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        let line = String::from_utf8(line).map_err(|e| TrainerError::Parse {
            path: path.to_path_buf(),
            line: i + 1,
            message: format!(
                "not valid UTF-8 (byte {} of the line is {:#04x})",
                e.utf8_error().valid_up_to() + 1,
                e.as_bytes()[e.utf8_error().valid_up_to()]
            ),
        })?;
        lines.push(line);
    }
    Ok(TextFile { lines, sha256 })
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
