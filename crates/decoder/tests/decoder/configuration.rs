//! Options that cannot work together are refused when the decoder is built.

use attention_core::ScoreKind;
use burn::prelude::*;
use decoder::{
    BeamOptions, Combine, DecoderConfig, DecoderError, InitialState, QueryOrdering, Seq2SeqConfig,
};
use encoder::EncoderConfig;

#[test]
fn mismatched_options_are_errors() {
    let device = Device::flex();
    let base = DecoderConfig::new(9, 8, 16, 24);
    assert!(matches!(
        base.clone()
            .with_combine(Combine::Add)
            .with_initial_state(InitialState::Zero)
            .init(&device),
        Err(DecoderError::SizeMismatch {
            option: "combine = add",
            ..
        })
    ));
    let err = base.clone().init(&device).unwrap_err();
    assert!(
        err.to_string()
            .contains("hidden_size (16) to equal the encoder state size (24)"),
        "{err}"
    );
    assert!(
        base.clone()
            .with_initial_state(InitialState::Bridge)
            .init(&device)
            .is_ok()
    );
    assert!(matches!(
        base.clone()
            .with_initial_state(InitialState::Bridge)
            .with_score(Some(ScoreKind::Dot))
            .init(&device),
        Err(DecoderError::Attention(_))
    ));
    assert_eq!(
        DecoderConfig::new(9, 8, 16, 16)
            .with_input_feeding(true)
            .init(&device)
            .unwrap_err(),
        DecoderError::InputFeedingNeedsLuong
    );
    assert!(
        DecoderConfig::new(9, 8, 16, 16)
            .with_ordering(QueryOrdering::Luong)
            .with_input_feeding(true)
            .init(&device)
            .is_ok()
    );
    assert_eq!(
        DecoderConfig::new(9, 0, 16, 16).init(&device).unwrap_err(),
        DecoderError::ZeroSize {
            name: "embedding_size"
        }
    );
    // The decoder must be told the encoder's real output size.
    let err = Seq2SeqConfig::new(
        EncoderConfig::new(9, 8, 16).with_bidirectional(true),
        DecoderConfig::new(9, 8, 16, 16),
    )
    .init(&device)
    .unwrap_err();
    assert!(
        matches!(
            err,
            DecoderError::SizeMismatch {
                option: "encoder_size",
                ..
            }
        ),
        "{err}"
    );
    for (width, n_best) in [(0, 1), (2, 0), (2, 3)] {
        let options = BeamOptions {
            width,
            length_penalty: 0.6,
            n_best,
        };
        assert!(
            options.validate().is_err(),
            "width {width}, n_best {n_best}"
        );
    }
}
