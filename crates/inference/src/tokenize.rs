//! Turning text into tokens and back.

use crate::config::{TaskConfig, TaskKind};
use crate::subwords::Subwords;

/// How a line of text becomes tokens.
#[derive(Debug, Clone, PartialEq)]
pub enum Tokenizer {
    /// One token per character (dates, graphemes).
    Chars,
    /// Tokens separated by whitespace (phonemes).
    Whitespace,
    /// Words with punctuation split off as tokens of their own (translation).
    Words {
        /// Lower-case the text first.
        lowercase: bool,
    },
    /// Pieces of a learned subword vocabulary (which does its own lower-casing).
    Subwords(Subwords),
}

impl Tokenizer {
    /// The tokens of `text`.
    ///
    /// ```
    /// use inference::Tokenizer;
    /// let words = Tokenizer::Words { lowercase: true };
    /// assert_eq!(words.tokenize("A dog, running."), ["a", "dog", ",", "running", "."]);
    /// assert_eq!(Tokenizer::Chars.tokenize("3/3"), ["3", "/", "3"]);
    /// ```
    pub fn tokenize(&self, text: &str) -> Vec<String> {
        match self {
            Tokenizer::Chars => text.chars().map(String::from).collect(),
            Tokenizer::Whitespace => text.split_whitespace().map(String::from).collect(),
            Tokenizer::Words { lowercase } => {
                let text = if *lowercase {
                    text.to_lowercase()
                } else {
                    text.to_string()
                };
                let mut tokens = Vec::new();
                for word in text.split_whitespace() {
                    let mut current = String::new();
                    for c in word.chars() {
                        if is_split_punctuation(c) {
                            if !current.is_empty() {
                                tokens.push(std::mem::take(&mut current));
                            }
                            tokens.push(c.to_string());
                        } else {
                            current.push(c);
                        }
                    }
                    if !current.is_empty() {
                        tokens.push(current);
                    }
                }
                tokens
            }
            Tokenizer::Subwords(subwords) => subwords.pieces(text),
        }
    }

    /// Text from tokens: the inverse of [`Tokenizer::tokenize`] up to spacing (punctuation is
    /// attached to the word before it, opening brackets and quotes to the word after).
    ///
    /// ```
    /// use inference::Tokenizer;
    /// let words = Tokenizer::Words { lowercase: true };
    /// let tokens = ["a", "dog", "(", "brown", ")", "runs", "."].map(String::from);
    /// assert_eq!(words.detokenize(&tokens), "a dog (brown) runs.");
    /// ```
    pub fn detokenize(&self, tokens: &[String]) -> String {
        match self {
            Tokenizer::Chars => tokens.concat(),
            Tokenizer::Whitespace => tokens.join(" "),
            Tokenizer::Words { .. } => {
                let mut out = String::new();
                let mut glue_next = false;
                for token in tokens {
                    let attaches_left = token.chars().count() == 1
                        && matches!(token.chars().next(), Some(c) if ".,;:!?)]}%'".contains(c));
                    if !out.is_empty() && !attaches_left && !glue_next {
                        out.push(' ');
                    }
                    out.push_str(token);
                    glue_next = matches!(token.as_str(), "(" | "[" | "{" | "\"" | "$");
                }
                out
            }
            Tokenizer::Subwords(subwords) => subwords.text(tokens),
        }
    }
}

/// Punctuation that [`Tokenizer::Words`] splits off.
fn is_split_punctuation(c: char) -> bool {
    c.is_ascii_punctuation() && c != '\'' && c != '-' || matches!(c, '„' | '“' | '”' | '«' | '»')
}

/// The tokenizers of a task: `(source, target)`; a translation run with a subword vocabulary
/// (`subwords`, its `tokenizer.json`) uses it on both sides.
pub fn tokenizers(task: &TaskConfig, subwords: Option<&Subwords>) -> (Tokenizer, Tokenizer) {
    match (task.kind, subwords) {
        (TaskKind::Dates, _) => (Tokenizer::Chars, Tokenizer::Chars),
        (TaskKind::G2p, _) => (Tokenizer::Chars, Tokenizer::Whitespace),
        (TaskKind::Translate, Some(subwords)) => {
            let pieces = Tokenizer::Subwords(subwords.clone());
            (pieces.clone(), pieces)
        }
        (TaskKind::Translate, None) => {
            let words = Tokenizer::Words {
                lowercase: task.lowercase,
            };
            (words.clone(), words)
        }
    }
}

/// How a task's raw input text is prepared before tokenising (G2P reads words lower-cased).
pub fn normalise_source(task: &TaskConfig, text: &str) -> String {
    match task.kind {
        TaskKind::G2p => text.trim().to_lowercase(),
        _ => text.trim().to_string(),
    }
}
