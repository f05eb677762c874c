"""The package as a user meets it: G2p, help(), threads, type hints."""

import pydoc
import threading

import seq2seq_attention as s2s


def test_g2p_returns_phonemes_words_apart():
    g2p = s2s.G2p()
    phonemes = g2p("attention")
    assert phonemes == g2p.model("attention").split()
    both = g2p("attention  Hello\n")
    assert both == phonemes + [" "] + g2p("hello")
    assert g2p("") == []


def test_help_is_readable():
    text = pydoc.render_doc(s2s.Model, renderer=pydoc.plaintext)
    for words in ("predict(", "nbest", "attention(", "GIL", "log-probability"):
        assert words in text
    assert "the shipped CMUdict model" in pydoc.render_doc(s2s.G2p, renderer=pydoc.plaintext)
    assert s2s.load.__doc__ and s2s.Attention.__doc__


def test_one_model_is_shared_by_threads(test_words):
    model = s2s.G2p().model
    shares = [test_words[k::4] for k in range(4)]
    alone = [model.predict(share, beam=1) for share in shares]
    together = [None] * 4

    def work(k):
        for _ in range(3):
            together[k] = model.predict(shares[k], beam=1)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert together == alone


def test_the_package_ships_type_hints():
    from importlib import resources

    files = resources.files("seq2seq_attention")
    assert files.joinpath("py.typed").is_file()
    assert files.joinpath("_native.pyi").is_file()
    assert repr(s2s.G2p().model).startswith("<seq2seq_attention.Model task='g2p'")
    assert s2s.__version__


def test_g2p_reads_running_text_as_g2p_en_does():
    g2p = s2s.G2p(beam=1)
    word = lambda w: g2p.model(w, beam=1).split()  # noqa: E731
    assert g2p("I have $5.") == (
        word("i") + [" "] + word("have") + [" "] + word("five") + [" "] + word("dollars") + [" ", "."]
    )
    tokens = g2p.model.predict_text(["Hello, 2nd!"], beam=1)[0]
    assert [t for t, _ in tokens] == ["hello", ",", "second", "!"]
    assert tokens[1] == (",", None)
