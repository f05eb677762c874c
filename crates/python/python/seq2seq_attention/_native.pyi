"""Type hints of the native module (Rust, PyO3)."""

from typing import List, Optional, Sequence, Tuple, Union, overload

import numpy as np
import numpy.typing as npt

__version__: str

class Attention:
    """One input's attention weights with its tokens."""

    weights: npt.NDArray[np.float32]
    """Shape (len(outputs), len(inputs)); each row sums to 1."""
    inputs: List[str]
    """The input tokens the model read, one per column."""
    outputs: List[str]
    """The output tokens, one per row, ending with '<eos>' when the output was finished."""
    output: str
    """The output as text."""

class Model:
    """A trained run (or an ensemble of runs), ready to predict."""

    @property
    def task(self) -> str:
        """'g2p', 'translate' or 'dates'."""
    @property
    def runs(self) -> List[str]:
        """The run directories (several for an ensemble)."""
    @property
    def beam(self) -> int:
        """The beam width used unless a call gives one."""
    def __call__(self, text: str, /, *, beam: Optional[int] = None) -> str:
        """The output for one input."""
    @overload
    def predict(self, texts: Sequence[str], *, beam: Optional[int] = None) -> List[str]: ...
    @overload
    def predict(
        self, texts: Sequence[str], *, beam: Optional[int] = None, nbest: int = 1
    ) -> Union[List[str], List[List[Tuple[str, float]]]]: ...
    def predict_text(
        self, lines: Sequence[str], *, beam: Optional[int] = None
    ) -> List[List[Tuple[str, Optional[str]]]]:
        """G2P: each line of running text as (word, pronunciation) or (mark, None) tokens."""
    def attention(self, text: str, /, *, beam: Optional[int] = None) -> Attention:
        """The attention weights of the input's output (needs NumPy)."""

def load(
    paths: List[str], max_input_tokens: Optional[int] = None, lexicons: List[str] = ...
) -> Model: ...
def shipped_g2p(lexicons: List[str] = ..., stress: bool = ...) -> Model: ...
