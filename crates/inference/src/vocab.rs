//! Vocabularies: token ↔ id, with the four special tokens first.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{InferenceError, Result};

/// Padding (id 0).
const PAD: &str = "<pad>";
/// Begin of sequence (id 1).
const BOS: &str = "<bos>";
/// Unknown token (id 3).
const UNK: &str = "<unk>";

/// A vocabulary: `<pad>`, `<bos>`, `<eos>`, `<unk>` at ids 0–3, then tokens by frequency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "VocabFile", into = "VocabFile")]
pub struct Vocab {
    tokens: Vec<String>,
    ids: HashMap<String, usize>,
}

/// The file form of a vocabulary: its tokens in id order.
#[derive(Serialize, Deserialize)]
struct VocabFile {
    tokens: Vec<String>,
}

impl TryFrom<VocabFile> for Vocab {
    type Error = String;

    fn try_from(file: VocabFile) -> Result<Self, String> {
        if file.tokens.get(..4) != Some(&[PAD, BOS, Vocab::EOS, UNK].map(String::from)[..]) {
            return Err(format!(
                "a vocabulary starts with {PAD}, {BOS}, {}, {UNK}",
                Vocab::EOS
            ));
        }
        let ids: HashMap<String, usize> = file
            .tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i))
            .collect();
        if ids.len() != file.tokens.len() {
            return Err("a vocabulary lists each token once".into());
        }
        Ok(Self {
            tokens: file.tokens,
            ids,
        })
    }
}

impl From<Vocab> for VocabFile {
    fn from(vocab: Vocab) -> Self {
        Self {
            tokens: vocab.tokens,
        }
    }
}

impl Vocab {
    /// Id of `<pad>`.
    pub const PAD_ID: usize = 0;
    /// Id of `<bos>`.
    pub const BOS_ID: usize = 1;
    /// Id of `<eos>`.
    pub const EOS_ID: usize = 2;
    /// The end-of-sequence token, `<eos>` (id 2).
    pub const EOS: &'static str = "<eos>";
    /// Id of `<unk>`.
    pub const UNK_ID: usize = 3;

    /// Builds a vocabulary from token sequences: tokens seen at least `min_count` times, most
    /// frequent first (ties in first-seen order), at most `max_size` tokens besides the specials.
    pub fn build<'a>(
        sequences: impl IntoIterator<Item = &'a [String]>,
        min_count: usize,
        max_size: Option<usize>,
    ) -> Self {
        let mut counts: HashMap<&str, (usize, usize)> = HashMap::new();
        for token in sequences.into_iter().flatten() {
            let next = counts.len();
            counts.entry(token).or_insert((0, next)).0 += 1;
        }
        let mut by_count: Vec<(&str, (usize, usize))> = counts
            .into_iter()
            .filter(|(_, (n, _))| *n >= min_count)
            .collect();
        by_count.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.1.1.cmp(&b.1.1)));
        let specials = [PAD, BOS, Self::EOS, UNK].map(String::from);
        let tokens = specials
            .into_iter()
            .chain(
                by_count
                    .into_iter()
                    .filter(|(t, _)| ![PAD, BOS, Self::EOS, UNK].contains(t))
                    .take(max_size.unwrap_or(usize::MAX))
                    .map(|(t, _)| t.to_string()),
            )
            .collect::<Vec<_>>();
        Self::try_from(VocabFile { tokens }).expect("built vocabularies are well-formed")
    }

    /// Number of tokens, specials included.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether only the special tokens are present.
    pub fn is_empty(&self) -> bool {
        self.tokens.len() <= 4
    }

    /// The id of `token`, or [`Vocab::UNK_ID`].
    pub fn id(&self, token: &str) -> usize {
        self.ids.get(token).copied().unwrap_or(Self::UNK_ID)
    }

    /// Whether `token` is in the vocabulary.
    pub fn contains(&self, token: &str) -> bool {
        self.ids.contains_key(token)
    }

    /// `pieces` with each one this vocabulary lacks split into the longest pieces it has, left
    /// to right (a character it has no piece for stays, alone, to be read as `<unk>`). For subword
    /// pieces: a piece the joint tokenizer learned from the other language (`▁catcher` in a
    /// German sentence) is read as the German pieces that spell it (`▁c`, `atch`, `er`), as
    /// subword-nmt's vocabulary filter does, rather than as `<unk>`.
    ///
    /// ```
    /// use inference::Vocab;
    /// let pieces = ["▁c", "atch", "er", "▁ein"].map(String::from);
    /// let vocab = Vocab::build([&pieces[..]], 1, None);
    /// let split = vocab.split_unknown(&["▁ein", "▁catcher", "▁x"].map(String::from));
    /// assert_eq!(split, ["▁ein", "▁c", "atch", "er", "▁", "x"]);
    /// ```
    pub fn split_unknown(&self, pieces: &[String]) -> Vec<String> {
        let mut out = Vec::with_capacity(pieces.len());
        for piece in pieces {
            if self.contains(piece) {
                out.push(piece.clone());
                continue;
            }
            let chars: Vec<(usize, char)> = piece.char_indices().collect();
            let mut start = 0;
            while start < chars.len() {
                let from = chars[start].0;
                let end = (start + 1..=chars.len())
                    .rev()
                    .find(|&end| {
                        let to = chars.get(end).map_or(piece.len(), |c| c.0);
                        self.contains(&piece[from..to])
                    })
                    .unwrap_or(start + 1);
                let to = chars.get(end).map_or(piece.len(), |c| c.0);
                out.push(piece[from..to].to_string());
                start = end;
            }
        }
        out
    }

    /// The ids of `tokens` (unknown ones become [`Vocab::UNK_ID`]).
    pub fn encode(&self, tokens: &[String]) -> Vec<usize> {
        tokens.iter().map(|t| self.id(t)).collect()
    }

    /// The token of `id` (`<unk>` for an id out of range).
    pub fn token(&self, id: usize) -> &str {
        self.tokens.get(id).map_or(UNK, String::as_str)
    }

    /// The tokens of `ids`.
    pub fn decode(&self, ids: &[usize]) -> Vec<String> {
        ids.iter().map(|&i| self.token(i).to_string()).collect()
    }

    /// The vocabulary as the JSON of a run's `source_vocab.json` / `target_vocab.json`.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("vocabularies serialise")
    }

    /// Reads the JSON written by [`Vocab::to_json`]; errors name `path` (nothing is read from
    /// it).
    ///
    /// # Errors
    ///
    /// [`InferenceError::Run`] if malformed.
    pub fn from_json(path: &Path, bytes: &[u8]) -> Result<Self> {
        serde_json::from_slice(bytes)
            .map_err(|e| InferenceError::run(path, format!("not a vocabulary file: {e}")))
    }
}
