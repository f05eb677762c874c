//! Parallel text files (plain or gzip): the first byte splits the input into a source and a
//! target file; reading, pairing and tokenising never panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use trainer::Tokenizer;
use trainer::tasks::parallel::Parallel;
use trainer::parse_text;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else { return };
    let at = (split as usize).min(rest.len());
    let (a, b) = rest.split_at(at);
    let (src, tgt) = (Path::new("fuzz.de"), Path::new("fuzz.en"));
    let (Ok(a), Ok(b)) = (parse_text(src, a), parse_text(tgt, b)) else { return };
    if let Ok(corpus) = Parallel::from_files(src, a, tgt, b) {
        for tokenizer in [Tokenizer::Words { lowercase: true }, Tokenizer::Words { lowercase: false }] {
            for pair in corpus.pairs(tokenizer) {
                let _ = tokenizer.detokenize(&pair.target);
            }
            let _ = corpus.items(tokenizer, true);
        }
    }
});
