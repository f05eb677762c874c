//! `config.json` of a run: any bytes parse and validate, or give an error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trainer::RunConfig;

fuzz_target!(|data: &[u8]| {
    if let Ok(config) = RunConfig::parse(std::path::Path::new("config.json"), data) {
        if config.validate().is_ok() {
            let _ = config.model.seq2seq(10, 10);
        }
    }
});
