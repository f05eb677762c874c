"""Sequence-to-sequence models with attention, trained and run in Rust.

    >>> import seq2seq_attention as s2s
    >>> g2p = s2s.G2p()                      # the shipped CMUdict model, inside the wheel
    >>> g2p("attention")
    ['AH', 'T', 'EH', 'N', 'SH', 'AH', 'N']
    >>> model = s2s.load("models/multi30k-de-en")   # any run directory `seq2seq train` made
    >>> model("Ein Mann fährt mit dem Fahrrad.")
    'a man is riding a bicycle.'

`load` returns a `Model`: `model(text)`, `model.predict(texts, beam=…, nbest=…)` and
`model.attention(text)` (a NumPy array with its tokens). Decoding runs on every core with
the GIL released.
"""

from __future__ import annotations

import os
from typing import List, Optional, Sequence, Union

from ._native import Attention, Model, __version__
from ._native import load as _load
from ._native import shipped_g2p as _shipped_g2p

__all__ = ["Attention", "G2p", "Model", "load", "__version__"]

PathLike = Union[str, "os.PathLike[str]"]


def _paths(paths: Union[None, PathLike, Sequence[PathLike]]) -> List[str]:
    if paths is None:
        return []
    if isinstance(paths, (str, os.PathLike)):
        return [os.fspath(paths)]
    return [os.fspath(p) for p in paths]


def load(
    path: Union[PathLike, Sequence[PathLike]],
    max_input_tokens: Optional[int] = None,
    lexicon: Union[None, PathLike, Sequence[PathLike]] = None,
) -> Model:
    """Load a run directory, or a list of them as one ensemble.

    The runs of an ensemble must share their task and vocabularies; they decode on their
    models' mean log-probabilities with the first run's options. An input of more than
    `max_input_tokens` tokens (default: 4 × the longest training source) raises ValueError.
    `lexicon` (G2P runs): CMUdict-format files whose words get their listed pronunciations
    instead of the model's (stress digits removed when the model writes none).

    Raises FileNotFoundError for a missing directory or file and ValueError for a malformed or
    mismatched run, with the message the `seq2seq` command prints.
    """
    return _load(_paths(path), max_input_tokens, _paths(lexicon))


class G2p:
    """English grapheme-to-phoneme conversion with the shipped CMUdict model.

    The model (`models/g2p-cmudict`: WER 21.24, PER 4.99 on the standard CMUdict test split
    at beam 5) is compiled into the package: no path, no download, no data files.

        >>> G2p()("attention")
        ['AH', 'T', 'EH', 'N', 'SH', 'AH', 'N']
        >>> G2p()("hello world")
        ['HH', 'EH', 'L', 'OW', ' ', 'W', 'ER', 'L', 'D']

    Calling it with running text returns the ARPAbet phonemes of its words, punctuation kept
    and tokens separated by ' ', as g2p_en does (`"I have $5."` → the phonemes of I, have,
    five, dollars, then '.'); numbers are spelled out as words. With `lexicon` (CMUdict-format files,
    e.g. the full CMUdict) the words they list get their listed pronunciation, as g2p_en does
    with its copy of CMUdict, and only the others go to the model.

    With `stress=True` the second shipped model (`models/g2p-cmudict-stress`) writes ARPAbet
    with stress digits, as g2p_en and CMUdict do (`AH0 T EH1 N SH AH0 N`), and lexicon entries
    keep theirs; without it no output has stress digits.
    """

    def __init__(
        self,
        beam: Optional[int] = None,
        lexicon: Union[None, PathLike, Sequence[PathLike]] = None,
        stress: bool = False,
    ) -> None:
        """Build the model; `beam` is the beam width (default: the model's, 5; 1 is greedy);
        `stress` chooses the model that writes stress digits."""
        self.model: Model = _shipped_g2p(_paths(lexicon), stress)
        self.beam = beam
        self.stress = stress

    def __call__(self, text: str) -> List[str]:
        """The phonemes of running `text`, g2p_en's way: each word's phonemes, each punctuation
        mark as itself, tokens separated by ' '; numbers are spelled out as words first."""
        phonemes: List[str] = []
        for line in text.splitlines() or [""]:
            for word, pronunciation in self.model.predict_text([line], beam=self.beam)[0]:
                if phonemes:
                    phonemes.append(" ")
                phonemes.extend(pronunciation.split() if pronunciation is not None else [word])
        return phonemes

    def predict(self, words: List[str]) -> List[str]:
        """Each word's pronunciation as one string of phonemes, decoded together."""
        return self.model.predict(words, beam=self.beam)

    def __repr__(self) -> str:
        return f"G2p(beam={self.beam!r}, stress={self.stress!r})"
