//! The prediction path on any text: tokenise (each task's tokenizer), encode with a vocabulary,
//! and decode with a small model (untrained, so outputs run to the length limit). Never panics;
//! an empty input is the one refusal.
#![no_main]

use std::sync::OnceLock;

use burn::prelude::*;
use decoder::{MaxLength, SearchOptions, Seq2Seq};
use libfuzzer_sys::fuzz_target;
use trainer::padded;
use trainer::{ModelOptions, Tokenizer, Vocab};

fn model() -> &'static (Seq2Seq, Vocab, Device) {
    static MODEL: OnceLock<(Seq2Seq, Vocab, Device)> = OnceLock::new();
    MODEL.get_or_init(|| {
        let device = Device::flex();
        let tokens: Vec<String> = "abcdefghijklmnopqrstuvwxyz0123456789 ,./-'".chars().map(String::from).collect();
        let vocab = Vocab::build([&tokens[..]], 1, None);
        let options = ModelOptions { embedding: 8, encoder_hidden: 8, decoder_hidden: 16, ..ModelOptions::default() };
        let model = options.seq2seq(vocab.len(), 20).init(&device).unwrap();
        (model, vocab, device)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (model, vocab, device) = model();
    for tokenizer in [Tokenizer::Chars, Tokenizer::Whitespace, Tokenizer::Words { lowercase: true }] {
        let tokens = tokenizer.tokenize(text);
        let _ = tokenizer.detokenize(&tokens);
        if tokens.is_empty() || tokens.len() > 200 {
            continue;
        }
        let ids = vocab.encode(&tokens);
        let options = SearchOptions { bos: Vocab::BOS_ID, eos: Vocab::EOS_ID, max_length: MaxLength { ratio: 0.5, extra: 2 } };
        let hyps = model.greedy(padded(&[ids], device), &[tokens.len()], &options).unwrap();
        assert_eq!(hyps[0].weights.first().map_or(tokens.len(), Vec::len), tokens.len());
    }
});
