#!/usr/bin/env python3
"""The Python package against the `seq2seq` command and against g2p_en, on CMUdict's test words.

Run it with the Python of a venv that has our wheel installed (and, for the g2p_en columns, a
second venv with `pip install g2p_en`):

    python bench/python_g2p.py --seq2seq target/release/seq2seq --g2p-en G2P_EN_VENV/bin/python

It prints JSON lines, one per measurement:

    {"impl": "python", "what": "import_s" | "load_s", "seconds": ...}
    {"impl": "python" | "cli" | "g2p_en", "what": "decode", "beam": 1, "words": 12000,
     "cpu_s": ..., "wall_s": ..., "words_per_cpu_s": ...}

CPU time is user + system: of this process around `G2p().predict` (all its threads), of the
child process for the command (os.wait4), and of g2p_en's process around its per-word
`G2p.predict` loop. g2p_en fetches NLTK data (its CMUdict copy and a POS tagger) when
imported; where that cannot be downloaded, its model is built without them (`load_variables`,
its bundled weights) and only that model is timed.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

G2P_EN = r"""
import json, os, sys, time, types
t = time.perf_counter()
import g2p_en.g2p as module
import_s = time.perf_counter() - t
t = time.perf_counter()
try:
    g2p = module.G2p()
    load_note = "G2p() with its NLTK data"
except LookupError as e:
    # No NLTK CMUdict: the same G2p with an empty dictionary (its model, its bundled weights).
    module.cmudict = types.SimpleNamespace(dict=lambda: {})
    g2p = module.G2p()
    load_note = "without NLTK's CMUdict, which could not be downloaded: its model only"
load_s = time.perf_counter() - t
words = sys.stdin.read().split()
t0 = os.times(); w0 = time.perf_counter()
outputs = [" ".join(g2p.predict(w)) for w in words]
t1 = os.times(); w1 = time.perf_counter()
print(json.dumps({"import_s": import_s, "load_s": load_s, "load": load_note,
                  "cpu_s": (t1.user - t0.user) + (t1.system - t0.system), "wall_s": w1 - w0,
                  "outputs": outputs}))
"""


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def emit(**fields) -> None:
    print(json.dumps(fields), flush=True)


def test_words() -> list:
    examples = json.loads((REPO / "models/g2p-cmudict/eval-test.json").read_text())["examples"]
    return [e["source"] for e in examples]


def ours(words: list, beam: int) -> None:
    t = time.perf_counter()
    import seq2seq_attention as s2s

    emit(impl="python", what="import_s", seconds=time.perf_counter() - t)
    t = time.perf_counter()
    g2p = s2s.G2p(beam=beam)
    emit(impl="python", what="load_s", seconds=time.perf_counter() - t)
    c0, w0 = cpu(), time.perf_counter()
    g2p.predict(words)
    c1, w1 = cpu(), time.perf_counter()
    emit(impl="python", what="decode", beam=beam, words=len(words), cpu_s=c1 - c0,
         wall_s=w1 - w0, words_per_cpu_s=len(words) / (c1 - c0))


def command(binary: str, words: list, beam: int) -> None:
    w0 = time.perf_counter()
    child = subprocess.Popen([binary, "predict", "--run", str(REPO / "models/g2p-cmudict"),
                              "--beam", str(beam)], stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL)
    child.stdin.write(("\n".join(words) + "\n").encode())
    child.stdin.close()
    _, status, usage = os.wait4(child.pid, 0)
    assert status == 0, status
    cpu_s = usage.ru_utime + usage.ru_stime
    emit(impl="cli", what="decode", beam=beam, words=len(words), cpu_s=cpu_s,
         wall_s=time.perf_counter() - w0, words_per_cpu_s=len(words) / cpu_s,
         note="whole process: loading included")


def g2p_en(python: str, words: list) -> None:
    done = subprocess.run([python, "-c", G2P_EN], input="\n".join(words), capture_output=True,
                          text=True, check=True)
    result = json.loads(done.stdout.splitlines()[-1])
    emit(impl="g2p_en", what="import_s", seconds=result["import_s"])
    emit(impl="g2p_en", what="load_s", seconds=result["load_s"], note=result["load"])
    emit(impl="g2p_en", what="decode", beam=1, words=len(words), cpu_s=result["cpu_s"],
         wall_s=result["wall_s"], words_per_cpu_s=len(words) / result["cpu_s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seq2seq", help="the seq2seq binary to compare with")
    parser.add_argument("--g2p-en", help="a Python with g2p_en installed")
    parser.add_argument("--beams", default="1,5")
    args = parser.parse_args()
    words = test_words()
    for beam in map(int, args.beams.split(",")):
        ours(words, beam)
        if args.seq2seq:
            command(args.seq2seq, words, beam)
    if args.g2p_en:
        g2p_en(args.g2p_en, words)


if __name__ == "__main__":
    sys.exit(main())
