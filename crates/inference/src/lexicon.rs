//! Dictionary first: the pronunciations a lexicon lists, for the words it has.

use std::collections::HashMap;
use std::path::Path;

use crate::{InferenceError, Result};

/// A pronunciation lexicon in CMUdict form: each word (lower-cased) with its pronunciations in
/// the order the files list them. A G2P [`Predictor`](crate::Predictor) with a lexicon gives a
/// listed word its listed pronunciations and sends only the others to the model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lexicon {
    entries: HashMap<String, Vec<String>>,
}

impl Lexicon {
    /// Reads a lexicon from the bytes of the file `path`: lines `WORD PH PH …` (a tab or
    /// spaces after the word), `WORD(2) …` for a further pronunciation, `;;;` comment lines,
    /// `# …` comments at the end of a line, blank lines.
    ///
    /// # Errors
    ///
    /// [`InferenceError::Run`] naming `path` and the line: not UTF-8, or a word without a
    /// pronunciation; a file without any entry.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Self> {
        let mut lexicon = Self::default();
        for (k, line) in bytes.split(|&b| b == b'\n').enumerate() {
            let at =
                |message: String| InferenceError::run(path, format!("line {}: {message}", k + 1));
            let line = std::str::from_utf8(line).map_err(|e| {
                at(format!(
                    "not UTF-8 (byte {} of the line)",
                    e.valid_up_to() + 1
                ))
            })?;
            let line = line.split(" #").next().unwrap_or_default().trim();
            if line.is_empty() || line.starts_with(";;;") || line.starts_with('#') {
                continue;
            }
            let (word, pronunciation) = line
                .split_once(char::is_whitespace)
                .map_or((line, ""), |(w, p)| (w, p.trim()));
            if pronunciation.is_empty() {
                return Err(at(format!(
                    "the word {word:?} has no pronunciation (expected WORD PH PH …)"
                )));
            }
            let word = strip_variant(word).to_lowercase();
            let phones: Vec<&str> = pronunciation.split_whitespace().collect();
            lexicon.add(word, phones.join(" ").to_uppercase());
        }
        if lexicon.is_empty() {
            return Err(InferenceError::run(
                path,
                "no entries: expected lines WORD PH PH …",
            ));
        }
        Ok(lexicon)
    }

    /// Adds `pronunciation` to `word`'s, after those it has (once).
    fn add(&mut self, word: String, pronunciation: String) {
        let listed = self.entries.entry(word).or_default();
        if !listed.contains(&pronunciation) {
            listed.push(pronunciation);
        }
    }

    /// This lexicon with `other`'s entries after its own (a word in both keeps this one's
    /// pronunciations first).
    pub fn extend(&mut self, other: Lexicon) {
        for (word, pronunciations) in other.entries {
            for pronunciation in pronunciations {
                self.add(word.clone(), pronunciation);
            }
        }
    }

    /// The lexicon with the stress digits of its phones removed (`AH0` → `AH`), pronunciations
    /// that become equal merged: for a model that writes no stress.
    pub fn without_stress(self) -> Self {
        let mut out = Self::default();
        for (word, pronunciations) in self.entries {
            for pronunciation in pronunciations {
                let bare: Vec<String> = pronunciation
                    .split(' ')
                    .map(|phone| {
                        phone
                            .trim_end_matches(|c: char| c.is_ascii_digit())
                            .to_string()
                    })
                    .collect();
                out.add(word.clone(), bare.join(" "));
            }
        }
        out
    }

    /// The pronunciations of `word` (already lower-cased and trimmed), if listed.
    pub fn get(&self, word: &str) -> Option<&[String]> {
        self.entries.get(word).map(Vec::as_slice)
    }

    /// How many words it lists.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it lists no word.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// `word` without a CMUdict variant suffix: `READ(2)` → `READ`.
fn strip_variant(word: &str) -> &str {
    match word.strip_suffix(')').and_then(|w| w.rsplit_once('(')) {
        Some((base, n)) if !base.is_empty() && n.chars().all(|c| c.is_ascii_digit()) => base,
        _ => word,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmudict_lines_variants_and_comments_are_read() {
        let text = ";;; a comment\nREAD  R IY1 D\nREAD(2)  R EH1 D # past tense\n\nphoneme\tF OW1 N IY0 M\n";
        let lexicon = Lexicon::parse(Path::new("x.dict"), text.as_bytes()).unwrap();
        assert_eq!(lexicon.get("read").unwrap(), ["R IY1 D", "R EH1 D"]);
        assert_eq!(lexicon.get("phoneme").unwrap(), ["F OW1 N IY0 M"]);
        assert_eq!(lexicon.len(), 2);
        let bare = lexicon.without_stress();
        assert_eq!(bare.get("phoneme").unwrap(), ["F OW N IY M"]);
    }

    #[test]
    fn later_files_add_after_earlier_ones() {
        let mut first = Lexicon::parse(Path::new("a"), b"tomato T AH M EY T OW\n").unwrap();
        let second = Lexicon::parse(
            Path::new("b"),
            b"tomato T AH M AA T OW\ntomato T AH M EY T OW\n",
        )
        .unwrap();
        first.extend(second);
        assert_eq!(
            first.get("tomato").unwrap(),
            ["T AH M EY T OW", "T AH M AA T OW"]
        );
    }

    #[test]
    fn bad_lines_name_the_file_and_line() {
        let error = Lexicon::parse(Path::new("my.dict"), b"CAT K AE T\nDOG\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "my.dict: line 2: the word \"DOG\" has no pronunciation (expected WORD PH PH …)"
        );
        let error = Lexicon::parse(Path::new("my.dict"), b"CAT K AE T\n\xff\n").unwrap_err();
        assert!(error.to_string().starts_with("my.dict: line 2: not UTF-8"));
        let error = Lexicon::parse(Path::new("my.dict"), b";;; only comments\n").unwrap_err();
        assert!(error.to_string().contains("no entries"));
    }
}
