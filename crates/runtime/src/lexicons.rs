//! Pronunciation lexicons read from disk.

use std::path::PathBuf;

use inference::Lexicon;

use crate::{Result, RuntimeError};

/// The lexicons in `paths`, read and joined in order (a word's pronunciations from earlier files
/// first); `None` for no paths.
///
/// # Errors
///
/// A file that cannot be read ([`RuntimeError::Io`]) or parsed (naming the file and line).
pub fn read_lexicons(paths: &[PathBuf]) -> Result<Option<Lexicon>> {
    let mut joined: Option<Lexicon> = None;
    for path in paths {
        let bytes = std::fs::read(path).map_err(|e| RuntimeError::io(path, e))?;
        let lexicon = Lexicon::parse(path, &bytes)?;
        match &mut joined {
            Some(all) => all.extend(lexicon),
            None => joined = Some(lexicon),
        }
    }
    Ok(joined)
}
