//! `g2p`: grapheme-to-phoneme conversion on CMUdict-format dictionaries.
//!
//! A line is `WORD PH PH …`, the word separated from its phonemes by a tab or spaces. Stress
//! digits (`AH0`) are read as written; [`Dictionary::without_stress`] removes them for a task
//! that writes none. `WORD(2)` marks a further pronunciation of `WORD` (as does the
//! word written again), and lines starting with `;;;` are comments (the original CMUdict's).
//! A lexicon with a score column, `WORD<TAB>SCORE<TAB>PH PH …` (what Phonetisaurus and our
//! `predict --format lexicon --scores` write), reads the same, the score left out.

use std::collections::BTreeMap;
use std::path::Path;

use crate::data::{EvalItem, Pair};
use crate::text_file::parse_text;
use crate::{Result, TrainerError};

/// A dictionary: each word (lower-cased letters) with its pronunciations, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dictionary {
    /// `(word, pronunciations)`, words in first-seen order.
    pub entries: Vec<(String, Vec<Vec<String>>)>,
    /// SHA-256 of the file.
    pub sha256: String,
}

/// Parses one dictionary line into `(word, phonemes)`; `None` for comments and blank lines.
///
/// # Errors
///
/// A message quoting the fault: no phonemes after the word, or a variant marker like `WORD(x)`.
pub fn parse_line(line: &str) -> Result<Option<(String, Vec<String>)>, String> {
    // Today's CMUdict ends some lines with a comment: `aalborg AO1 L B AO0 R G # place, danish`.
    let line = line.split('#').next().unwrap_or_default().trim();
    if line.is_empty() || line.starts_with(";;;") {
        return Ok(None);
    }
    // `WORD<TAB>SCORE<TAB>PH PH …`: a number between two tabs is a score, never a phoneme.
    let without_score;
    let line = match line.split('\t').collect::<Vec<_>>()[..] {
        [word, score, phonemes] if score.trim().parse::<f64>().is_ok_and(f64::is_finite) => {
            without_score = format!("{word} {phonemes}");
            &without_score
        }
        _ => line,
    };
    let mut fields = line.split_whitespace();
    let head = fields.next().expect("a non-blank line has a field");
    let word = match head.find('(') {
        Some(open) => {
            let variant = &head[open..];
            let ok = variant.len() > 2
                && variant.ends_with(')')
                && variant[1..variant.len() - 1]
                    .chars()
                    .all(|c| c.is_ascii_digit());
            if !ok || open == 0 {
                return Err(format!("{head:?} is not WORD or WORD(n)"));
            }
            &head[..open]
        }
        None => head,
    };
    let phonemes: Vec<String> = fields.map(str::to_string).collect();
    if phonemes.is_empty() {
        return Err(format!(
            "the word {word:?} has no pronunciation (expected WORD<tab>PH PH …)"
        ));
    }
    if let Some(bad) = phonemes.iter().find(|p| unstressed(p).is_empty()) {
        return Err(format!(
            "the phoneme {bad:?} in the pronunciation of {word:?} is a stress digit alone"
        ));
    }
    Ok(Some((word.to_lowercase(), phonemes)))
}

impl Dictionary {
    /// Reads a dictionary file (plain or gzip).
    ///
    /// # Errors
    ///
    /// [`TrainerError::Io`] / [`TrainerError::Parse`] naming the file and line, or
    /// [`TrainerError::Empty`] if it has no entries.
    pub fn read(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| TrainerError::io(path, e))?;
        Self::parse(path, &bytes)
    }

    /// Parses a dictionary file's `bytes` (plain or gzip); errors name `path`.
    ///
    /// # Errors
    ///
    /// As [`Dictionary::read`], without the reading.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Self> {
        let file = parse_text(path, bytes)?;
        let mut index: BTreeMap<String, usize> = BTreeMap::new();
        let mut entries: Vec<(String, Vec<Vec<String>>)> = Vec::new();
        for (i, line) in file.lines.iter().enumerate() {
            let parsed = parse_line(line).map_err(|message| TrainerError::Parse {
                path: path.to_path_buf(),
                line: i + 1,
                message,
            })?;
            let Some((word, phonemes)) = parsed else {
                continue;
            };
            let slot = *index.entry(word.clone()).or_insert_with(|| {
                entries.push((word, Vec::new()));
                entries.len() - 1
            });
            if !entries[slot].1.contains(&phonemes) {
                entries[slot].1.push(phonemes);
            }
        }
        if entries.is_empty() {
            return Err(TrainerError::Empty {
                path: path.to_path_buf(),
            });
        }
        Ok(Self {
            entries,
            sha256: file.sha256,
        })
    }

    /// The dictionary with its phones' stress digits removed (`AH0` → `AH`), pronunciations
    /// that become equal merged.
    pub fn without_stress(self) -> Self {
        let entries = self
            .entries
            .into_iter()
            .map(|(word, prons)| (word, without_stress(&prons)))
            .collect();
        Self {
            entries,
            sha256: self.sha256,
        }
    }

    /// Splits off every `nth` word (1-based: words n, 2n, …) as a development set.
    pub fn carve(self, nth: usize) -> (Self, Self) {
        let (mut keep, mut dev) = (Vec::new(), Vec::new());
        for (i, entry) in self.entries.into_iter().enumerate() {
            if (i + 1) % nth == 0 {
                dev.push(entry);
            } else {
                keep.push(entry);
            }
        }
        (
            Self {
                entries: keep,
                sha256: self.sha256.clone(),
            },
            Self {
                entries: dev,
                sha256: self.sha256,
            },
        )
    }

    /// One training pair per pronunciation: letters → phonemes.
    pub fn pairs(&self) -> Vec<Pair> {
        self.entries
            .iter()
            .flat_map(|(word, prons)| {
                prons.iter().map(move |p| Pair {
                    source: letters(word),
                    target: p.clone(),
                })
            })
            .collect()
    }

    /// One evaluation item per word, every pronunciation a reference.
    pub fn items(&self) -> Vec<EvalItem> {
        self.entries
            .iter()
            .map(|(word, prons)| EvalItem {
                source: letters(word),
                source_text: word.clone(),
                references: prons.clone(),
                reference_texts: prons.iter().map(|p| p.join(" ")).collect(),
            })
            .collect()
    }
}

/// A phone without its stress digits: `AH0` → `AH`.
pub fn unstressed(phone: &str) -> &str {
    phone.trim_end_matches(|c: char| c.is_ascii_digit())
}

/// Pronunciations with their stress digits removed, those that become equal merged (first
/// kept).
pub fn without_stress(pronunciations: &[Vec<String>]) -> Vec<Vec<String>> {
    let mut bare: Vec<Vec<String>> = Vec::with_capacity(pronunciations.len());
    for pron in pronunciations {
        let pron: Vec<String> = pron.iter().map(|p| unstressed(p).to_string()).collect();
        if !bare.contains(&pron) {
            bare.push(pron);
        }
    }
    bare
}

/// The letters of a word, one token each.
pub fn letters(word: &str) -> Vec<String> {
    word.chars().map(String::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse_with_tabs_spaces_stress_and_variants() {
        let p = |s: &str| parse_line(s).unwrap().unwrap();
        assert_eq!(
            p("ABLE\tEY B AH L"),
            (
                "able".into(),
                vec!["EY", "B", "AH", "L"]
                    .into_iter()
                    .map(String::from)
                    .collect()
            )
        );
        assert_eq!(p("ABLE  EY1 B AH0 L").1, ["EY1", "B", "AH0", "L"]);
        assert_eq!(p("READ(2)  R EH1 D").0, "read");
        // A score column between tabs (Phonetisaurus's and our lexicon output) is left out.
        assert_eq!(p("able\t-0.0123\tEY B AH L"), p("ABLE\tEY B AH L"));
        assert_eq!(p("able\t16.5\tEY B AH L"), p("ABLE\tEY B AH L"));
        assert_eq!(parse_line(";;; comment").unwrap(), None);
        assert_eq!(p("aalborg AO1 L B AO0 R G # place, danish").1.len(), 6);
        assert_eq!(parse_line("# only a comment").unwrap(), None);
        assert_eq!(parse_line("   ").unwrap(), None);
        assert!(
            parse_line("LONELY")
                .unwrap_err()
                .contains("\"LONELY\" has no pronunciation")
        );
        assert!(
            parse_line("READ(x) R EH D")
                .unwrap_err()
                .contains("READ(x)")
        );
        assert!(parse_line("(2) R EH D").is_err());
        assert!(
            parse_line("A 1")
                .unwrap_err()
                .contains("stress digit alone")
        );
    }

    #[test]
    fn stress_is_kept_or_removed_with_variants_merged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.dict");
        std::fs::write(
            &path,
            "RECORD R EH1 K ER0 D\nRECORD(2) R EH0 K ER1 D\nAT AE1 T\n",
        )
        .unwrap();
        let stressed = Dictionary::read(&path).unwrap();
        assert_eq!(stressed.entries[0].1[0], ["R", "EH1", "K", "ER0", "D"]);
        assert_eq!(stressed.entries[0].1.len(), 2);
        let bare = stressed.without_stress();
        assert_eq!(bare.entries[0].1, [["R", "EH", "K", "ER", "D"]]);
        assert_eq!(bare.entries[1].1, [["AE", "T"]]);
    }
}
