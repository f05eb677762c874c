#!/usr/bin/env python3
"""Peak memory of `seq2seq predict` on inputs that once took it down: one long line, a
million words. Prints one JSON line per case:

    {"case": ..., "peak_rss_mib": ..., "wall_s": ..., "cpu_s": ..., "exit": ..., "outputs": ...}

    python bench/bounded_inputs.py --seq2seq target/release/seq2seq [--words 1000000]

Peak resident memory is the process's own (os.wait4's ru_maxrss); the words are the shipped
G2P model's 12,000 test words, repeated. Goal (issue #38): at most 200 MB in every case.
"""

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run(binary: str, args: list, stdin_path: Path, case: str) -> None:
    with open(stdin_path, "rb") as stdin, tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        child = subprocess.Popen([binary, "predict", "--run", str(REPO / "models/g2p-cmudict"),
                                  *args], stdin=stdin, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        out.seek(0)
        outputs = sum(1 for _ in out)
    print(json.dumps({
        "case": case, "args": args, "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "exit": os.waitstatus_to_exitcode(status), "outputs": outputs,
    }), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seq2seq", required=True)
    parser.add_argument("--words", type=int, default=1_000_000)
    args = parser.parse_args()
    examples = json.loads((REPO / "models/g2p-cmudict/eval-test.json").read_text())["examples"]
    words = [e["source"] for e in examples]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        one_word = tmp / "one.txt"
        one_word.write_text("attention\n")
        run(args.seq2seq, ["--beam", "1"], one_word, "one word (baseline)")
        for size, name in [(20_000, "20,000-character line"), (1 << 20, "1 MB line")]:
            path = tmp / f"long{size}.txt"
            path.write_text("a" * size + "\nattention\n")
            run(args.seq2seq, ["--beam", "1"], path, f"{name}, then a word")
        many = tmp / "many.txt"
        with open(many, "w") as f:
            for k in range(args.words):
                f.write(words[k % len(words)] + "\n")
        run(args.seq2seq, ["--beam", "1"], many, f"{args.words:,} words, greedy")


if __name__ == "__main__":
    main()
