"""Shared fixtures: the repository's shipped models and the `seq2seq` command to compare with.

The command is $SEQ2SEQ, else target/release/seq2seq, else target/debug/seq2seq (CI sets
SEQ2SEQ to the binary it built).
"""

import json
import os
import subprocess
from pathlib import Path
from typing import List

import pytest

REPO = Path(__file__).resolve().parents[3]
G2P_RUN = REPO / "models" / "g2p-cmudict"
G2P_STRESS_RUN = REPO / "models" / "g2p-cmudict-stress"
TRANSLATION_RUN = REPO / "models" / "multi30k-de-en"
ENSEMBLE_RUNS = [
    REPO / "models" / "g2p-cmudict-ensemble" / "quick-smooth-l2-seed5",
    REPO / "models" / "g2p-cmudict-ensemble" / "quick-smooth-l2-seed7",
]


def seq2seq_binary() -> Path:
    candidates = [os.environ.get("SEQ2SEQ")] if os.environ.get("SEQ2SEQ") else [
        REPO / "target" / "release" / "seq2seq",
        REPO / "target" / "debug" / "seq2seq",
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise RuntimeError(
        "no seq2seq binary to compare with: set SEQ2SEQ or build it (cargo build --release -p seq2seq-cli)"
    )


class Cli:
    """Runs `seq2seq` with arguments and standard input; returns the completed process."""

    def __init__(self, binary: Path) -> None:
        self.binary = binary

    def __call__(self, args: List[str], stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self.binary), *args],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=600,
        )


@pytest.fixture(scope="session")
def cli() -> Cli:
    return Cli(seq2seq_binary())


@pytest.fixture(scope="session")
def test_words() -> List[str]:
    """400 words of the CMUdict test split, as the shipped model's evaluation lists them."""
    examples = json.loads((G2P_RUN / "eval-test.json").read_text())["examples"]
    return [e["source"] for e in examples[::30]]


@pytest.fixture(scope="session")
def sentences() -> List[str]:
    lines = (REPO / "web" / "tests" / "sentences.txt").read_text().splitlines()
    return [line for line in lines if line.strip()]
