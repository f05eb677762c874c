"""Every error is a Python exception with the command's message; no panic reaches Python."""

import shutil
import warnings

import pytest
import seq2seq_attention as s2s
from conftest import G2P_RUN, TRANSLATION_RUN


def command_error(cli, run):
    done = cli(["predict", "--run", str(run), "word"])
    assert done.returncode != 0
    return done.stderr


def test_a_missing_run_directory(cli):
    with pytest.raises(FileNotFoundError) as raised:
        s2s.load("/nonexistent/run")
    assert str(raised.value) == "/nonexistent/run: no such run directory"
    assert str(raised.value) in command_error(cli, "/nonexistent/run")


def test_a_run_without_its_model_file(cli, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(G2P_RUN, run)
    (run / "model.bpk").unlink()
    with pytest.raises(FileNotFoundError, match="model.bpk") as raised:
        s2s.load(run)
    assert str(raised.value) in command_error(cli, run)


@pytest.mark.parametrize(
    "name, contents, message",
    [
        ("config.json", b"{ not json", "config.json"),
        ("source_vocab.json", b'{"tokens": ["a"]}', "source_vocab.json"),
        ("model.bpk", b"\x00" * 64, "model.bpk"),
    ],
)
def test_a_corrupt_file_names_itself(cli, tmp_path, name, contents, message):
    run = tmp_path / "run"
    shutil.copytree(G2P_RUN, run)
    (run / name).write_bytes(contents)
    with pytest.raises(ValueError, match=message) as raised:
        s2s.load(run)
    assert str(raised.value) in command_error(cli, run)


def test_a_run_without_its_tokenizer(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(TRANSLATION_RUN, run)
    (run / "tokenizer.json").unlink()
    with pytest.raises(ValueError, match="tokenizer.json: missing"):
        s2s.load(run)


def test_an_ensemble_of_different_vocabularies():
    with pytest.raises(ValueError, match="differs from the first run's"):
        s2s.load([G2P_RUN, TRANSLATION_RUN])


def test_a_run_named_twice():
    with pytest.raises(ValueError, match="is named twice"):
        s2s.load([G2P_RUN, G2P_RUN])


def test_an_empty_input_names_its_place():
    g2p = s2s.G2p().model
    with pytest.raises(ValueError, match=r'^input 2: "  " is empty: there is nothing to predict from$'):
        g2p.predict(["word", "  "])


@pytest.mark.parametrize(
    "options, message",
    [
        ({"beam": 0}, "beam"),
        ({"beam": 100000}, "beam"),
        ({"beam": 2, "nbest": 3}, "n_best"),
        ({"nbest": 0}, "n_best"),
    ],
)
def test_bad_decoding_options(options, message):
    with pytest.raises(ValueError, match=message):
        s2s.G2p().model.predict(["word"], **options)


def test_wrong_types_are_type_errors():
    g2p = s2s.G2p().model
    with pytest.raises(TypeError):
        g2p.predict("a string is not a list of inputs")
    with pytest.raises(TypeError):
        g2p(42)
    with pytest.raises(OverflowError):
        g2p.predict(["word"], beam=-1)


def test_unknown_characters_warn_and_name_the_input():
    with pytest.warns(UserWarning, match=r'input 1 "ab9": 1 of 3 tokens are not in'):
        output = s2s.G2p().model("ab9")
    assert output


def test_a_clean_input_gives_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s2s.G2p().model("attention")


def test_an_input_over_the_limit_names_itself(cli):
    g2p = s2s.G2p().model
    with pytest.raises(ValueError) as raised:
        g2p.predict(["word", "a" * 100_000])
    message = str(raised.value)
    assert message.startswith('input 2: the input ("aaaaaaaaaaaaaaaaaaaaaaaa"… of 100000 characters)')
    assert "more than the input limit of 88 tokens" in message
    limited = s2s.load(G2P_RUN, max_input_tokens=5)
    with pytest.raises(ValueError, match=r'^input 1: the input \("attention"\) has 9 tokens'):
        limited("attention")
    done = cli(["predict", "--run", str(G2P_RUN), "--max-input-tokens", "5", "attention"])
    assert message_of(limited, "attention") in done.stderr
    with pytest.raises(ValueError, match="max_input_tokens = 0 is invalid"):
        s2s.load(G2P_RUN, max_input_tokens=0)


def message_of(model, text):
    try:
        model(text)
    except ValueError as e:
        return str(e)
    raise AssertionError("no error")


def test_a_bad_lexicon_names_its_line(tmp_path):
    bad = tmp_path / "bad.dict"
    bad.write_text("CAT K AE T\nDOG\n")
    with pytest.raises(ValueError, match=r'bad.dict: line 2: the word "DOG" has no pronunciation'):
        s2s.G2p(lexicon=bad)
    with pytest.raises(FileNotFoundError, match="nonexistent.dict"):
        s2s.load(G2P_RUN, lexicon="/nonexistent.dict")
    with pytest.raises(ValueError, match="a pronunciation lexicon applies to g2p runs"):
        s2s.load(TRANSLATION_RUN, lexicon=_good(tmp_path))


def _good(tmp_path):
    good = tmp_path / "good.dict"
    good.write_text("CAT K AE T\n")
    return good
