"""The package's outputs are the command's: words, sentences, ensembles, n-best lists."""

import seq2seq_attention as s2s
from conftest import ENSEMBLE_RUNS, G2P_RUN, G2P_STRESS_RUN, TRANSLATION_RUN


def cli_lines(cli, args, inputs):
    done = cli(["predict", *args], "\n".join(inputs) + "\n")
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_words_equal_the_commands_at_beam_5_and_greedy(cli, test_words):
    g2p = s2s.G2p()
    assert g2p.predict(test_words) == cli_lines(cli, ["--run", str(G2P_RUN)], test_words)
    greedy = s2s.G2p(beam=1).predict(test_words)
    assert greedy == cli_lines(cli, ["--run", str(G2P_RUN), "--beam", "1"], test_words)


def test_the_wheels_g2p_is_the_shipped_run(test_words):
    shipped = s2s.load(G2P_RUN)
    assert shipped.predict(test_words[:50]) == s2s.G2p().predict(test_words[:50])
    assert s2s.G2p().model.runs == ["models/g2p-cmudict"]


def test_sentences_equal_the_commands(cli, sentences):
    model = s2s.load(TRANSLATION_RUN)
    assert model.task == "translate"
    assert model.predict(sentences) == cli_lines(cli, ["--run", str(TRANSLATION_RUN)], sentences)
    assert model(sentences[0]) == model.predict(sentences[:1])[0]


def test_nbest_and_scores_equal_the_commands(cli, test_words):
    words = test_words[:40]
    nbest = s2s.G2p().model.predict(words, nbest=3)
    lines = cli_lines(cli, ["--run", str(G2P_RUN), "--nbest", "3"], words)
    expected = [line.split("\t") for line in lines]
    got = [[output, f"{log_prob:.4f}"] for hyps in nbest for output, log_prob in hyps]
    assert got == expected
    for hyps in nbest:
        assert len(hyps) == 3
        scores = [log_prob for _, log_prob in hyps]
        assert all(s <= 0 for s in scores)


def test_an_ensemble_equals_the_commands(cli, test_words):
    ensemble = s2s.load(ENSEMBLE_RUNS)
    assert ensemble.runs == [str(r) for r in ENSEMBLE_RUNS]
    args = [a for run in ENSEMBLE_RUNS for a in ("--run", str(run))]
    assert ensemble.predict(test_words[:100]) == cli_lines(cli, args, test_words[:100])


def test_a_lexicon_is_looked_up_first(tmp_path, cli):
    lexicon = tmp_path / "my.dict"
    lexicon.write_text("PHONEME  F OW1 N IY0 M\nREAD  R IY1 D\nREAD(2)  R EH1 D\n")
    g2p = s2s.G2p(lexicon=lexicon)
    assert g2p("phoneme attention") == ["F", "OW", "N", "IY", "M", " "] + s2s.G2p()("attention")
    assert g2p.model.predict(["read"], nbest=3)[0][:2] == [("R IY D", 0.0), ("R EH D", 0.0)]
    model = s2s.load(G2P_RUN, lexicon=[lexicon])
    words = ["phoneme", "read", "attention"]
    assert model.predict(words) == cli_lines(cli, ["--run", str(G2P_RUN), "--lexicon", str(lexicon)], words)


def test_the_stressed_model_writes_stress_digits_as_the_command_does(tmp_path, cli, test_words):
    g2p = s2s.G2p(stress=True)
    assert g2p.predict(test_words) == cli_lines(cli, ["--run", str(G2P_STRESS_RUN)], test_words)
    phonemes = g2p("attention")
    assert any(p[-1].isdigit() for p in phonemes), phonemes
    assert not any(p[-1].isdigit() for p in s2s.G2p()("attention"))
    lexicon = tmp_path / "my.dict"
    lexicon.write_text("PHONEME  F OW1 N IY0 M\n")
    assert s2s.G2p(stress=True, lexicon=lexicon)("phoneme") == ["F", "OW1", "N", "IY0", "M"]
    assert repr(g2p) == "G2p(beam=None, stress=True)"
