//! Learning a subword vocabulary (BPE or unigram) from a translation task's training split,
//! with Hugging Face's `tokenizers`.
//!
//! One vocabulary is learned from both sides' text (joint BPE, as Sennrich et al. 2016), so
//! that names and numbers, which a sentence and its translation share, are cut alike. The text
//! is NFKC-normalised (and lower-cased when the task is), spaces become `▁` at the start of the
//! piece that follows them (SentencePiece's convention: pieces back to text is exact), and a
//! character never seen in training becomes `<unk>`.

use std::path::Path;

use inference::{Subwords, Vocabulary};
use tokenizers::models::bpe::{BPE, BpeTrainer};
use tokenizers::models::unigram::{Unigram, UnigramTrainer};
use tokenizers::models::{ModelWrapper, TrainerWrapper};
use tokenizers::normalizers::{Lowercase, NFKC, NormalizerWrapper, Sequence};
use tokenizers::pre_tokenizers::metaspace::{Metaspace, PrependScheme};
use tokenizers::{AddedToken, Tokenizer};

use crate::{Result, TrainerError};

/// The piece an unknown character becomes (the vocabularies' `<unk>`).
const UNK: &str = "<unk>";

/// Learns `vocabulary` from `texts` (both sides of the training split); `None` for words.
/// `source` names the data in errors.
///
/// # Errors
///
/// [`TrainerError::Invalid`]-like errors naming `task.vocabulary` when the tokenizer cannot be
/// learned (too few distinct pieces for the size asked, for instance).
pub fn learn(
    vocabulary: Vocabulary,
    lowercase: bool,
    texts: &[&str],
    source: &Path,
) -> Result<Option<Subwords>> {
    let Some((kind, size)) = vocabulary.subwords() else {
        return Ok(None);
    };
    let failed = |e: tokenizers::Error| {
        TrainerError::invalid(
            "task.vocabulary",
            vocabulary,
            format!("cannot learn it from {}: {e}", source.display()),
        )
    };
    let unk = AddedToken::from(UNK.to_string(), true);
    let (model, mut trainer): (ModelWrapper, TrainerWrapper) = if kind == "bpe" {
        let model = BPE::builder()
            .unk_token(UNK.into())
            .build()
            .map_err(failed)?;
        let trainer = BpeTrainer::builder()
            .vocab_size(size)
            .min_frequency(2)
            .special_tokens(vec![unk])
            .show_progress(false)
            .build();
        (model.into(), trainer.into())
    } else {
        let trainer = UnigramTrainer::builder()
            .vocab_size(u32::try_from(size).unwrap_or(u32::MAX))
            .special_tokens(vec![unk])
            .unk_token(Some(UNK.into()))
            .show_progress(false)
            .build()
            .map_err(|e| failed(e.into()))?;
        (Unigram::default().into(), trainer.into())
    };
    let mut tokenizer = Tokenizer::new(model);
    let mut normalizers: Vec<NormalizerWrapper> = vec![NFKC.into()];
    if lowercase {
        normalizers.push(Lowercase.into());
    }
    let metaspace = Metaspace::new('▁', PrependScheme::Always, true);
    tokenizer
        .with_normalizer(Some(Sequence::new(normalizers)))
        .map_err(failed)?
        .with_pre_tokenizer(Some(metaspace.clone()))
        .with_decoder(Some(metaspace));
    tokenizer
        .train(&mut trainer, texts.iter())
        .map_err(failed)?;
    Ok(Some(Subwords::new(
        Path::new(inference::TOKENIZER_FILE),
        tokenizer,
    )?))
}
