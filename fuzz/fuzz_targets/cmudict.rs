//! CMUdict-format dictionaries (plain or gzip): any bytes parse or give an error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trainer::tasks::cmudict::Dictionary;

fuzz_target!(|data: &[u8]| {
    if let Ok(dict) = Dictionary::parse(std::path::Path::new("fuzz.dict"), data) {
        let _ = dict.pairs();
        let (train, dev) = dict.carve(21);
        assert!(!train.items().is_empty() || !dev.items().is_empty());
    }
});
