"""Model.attention: a NumPy array of outputs x inputs whose rows sum to 1, with its tokens."""

import numpy as np
import pytest
import seq2seq_attention as s2s
from conftest import TRANSLATION_RUN


def check(attention):
    assert isinstance(attention.weights, np.ndarray)
    assert attention.weights.dtype == np.float32
    assert attention.weights.shape == (len(attention.outputs), len(attention.inputs))
    np.testing.assert_allclose(attention.weights.sum(axis=1), 1.0, atol=1e-4)
    assert (attention.weights >= 0).all()


def test_a_words_attention_has_letters_across_and_phonemes_down():
    g2p = s2s.G2p()
    attention = g2p.model.attention("attention")
    check(attention)
    assert attention.inputs == list("attention")
    assert attention.outputs == attention.output.split() + ["<eos>"]
    assert attention.output == g2p.model("attention")
    assert "7 inputs" not in repr(attention) and "9 inputs" in repr(attention)


def test_a_sentences_attention_has_pieces_across_and_pieces_down(sentences):
    model = s2s.load(TRANSLATION_RUN)
    for sentence in sentences[:3]:
        attention = model.attention(sentence, beam=1)
        check(attention)
        assert attention.inputs[0].startswith("▁")
        assert attention.outputs[-1] == "<eos>"
        assert attention.output == model(sentence, beam=1)


def test_greedy_attention_rows_move_along_the_word():
    weights = s2s.G2p().model.attention("abcdefghij", beam=1).weights
    peaks = weights.argmax(axis=1)
    assert peaks[0] < peaks[len(peaks) // 2] < len("abcdefghij")


def test_attention_needs_one_input():
    with pytest.raises(TypeError):
        s2s.G2p().model.attention(["two", "words"])
