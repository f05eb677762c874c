#!/usr/bin/env python3
"""Phonetisaurus, the WFST joint-n-gram G2P tool, trained and timed on a CMUdict split.

The reference our `g2p` benchmark workload races (`cargo xtask bench --g2p --phonetisaurus
PYTHON`). It installs Phonetisaurus 0.3.0 from PyPI into a virtual environment of its own (the
wheel bundles phonetisaurus-align, -arpa2wfst, -g2pfst and MITLM's estimate-ngram), trains the
standard order-8 recipe once (cached by the training file's SHA-256; `--stress` keeps the
phones' stress digits and scores with and without them), then decodes every test
word and prints JSON lines:

    {"impl": "phonetisaurus", "bench": "g2p_train", "cpu_s": ..., "align_cpu_s": ..., ...}
    {"impl": "phonetisaurus", "bench": "g2p", "beam": 1, "words": 12000, "cpu_s": ...,
     "words_per_cpu_s": ..., "peak_rss_mib": ..., "load_s": ..., "wer": ..., "per": ...}

CPU time is user + system of the decoding process (os.wait4), as for ours; WER and PER use the
any-reference rule of our `g2p` task (a word is right if it equals any of its pronunciations;
its phoneme errors are counted against the closest one).

Recipe (Phonetisaurus's README): align with `--seq1_del=false --seq2_del=true --seq1_max=2
--seq2_max=2 --grow=false`, `estimate-ngram -o 8`, `phonetisaurus-arpa2wfst`; decode with
`phonetisaurus-g2pfst --nbest=1 --beam=10000 --thresh=99 --pmass=0 --wordlist=FILE`.
"""

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import time
import venv
from pathlib import Path

VERSION = "0.3.0"


def ensure_phonetisaurus(env_dir: Path) -> Path:
    """The package's directory, installing it into `env_dir` first if needed."""
    try:
        import phonetisaurus  # noqa: F401 (already installed in this Python)

        return Path(phonetisaurus.__file__).parent
    except ImportError:
        pass
    python = env_dir / "bin" / "python"
    if not python.exists():
        print(f"creating {env_dir} with phonetisaurus=={VERSION}", file=sys.stderr)
        venv.create(env_dir, with_pip=True)
    where = [str(python), "-c", "import phonetisaurus, os; print(os.path.dirname(phonetisaurus.__file__))"]
    found = subprocess.run(where, capture_output=True, text=True)
    if found.returncode != 0:
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", f"phonetisaurus=={VERSION}"], check=True
        )
        found = subprocess.run(where, capture_output=True, text=True, check=True)
    return Path(found.stdout.strip())


def tools_env(package: Path) -> dict:
    machine = os.uname().machine
    env = dict(os.environ)
    env["PATH"] = f"{package / 'bin' / machine}:{env.get('PATH', '')}"
    env["LD_LIBRARY_PATH"] = f"{package / 'lib' / machine}:{env.get('LD_LIBRARY_PATH', '')}"
    return env


def run_measured(argv, env, stdout=None):
    """Runs `argv`; returns (cpu seconds, peak RSS MiB, wall seconds) of that process alone."""
    started = time.monotonic()
    proc = subprocess.Popen(argv, env=env, stdout=stdout or subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"error: {argv[0]} exited with {code}")
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0, wall


def unstressed(pron):
    return [re.sub(r"\d+$", "", p) for p in pron]


def read_lexicon(path: Path, stress: bool):
    """word (lower-cased) -> list of pronunciations (phoneme lists; stress digits kept only when
    `stress`)."""
    lexicon = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fields = line.split()
        if not fields or line.startswith(";;;"):
            continue
        if len(fields) < 2:
            sys.exit(f"error: {path}:{number}: {fields[0]!r} has no pronunciation")
        word = re.sub(r"\(\d+\)$", "", fields[0]).lower()
        pron = fields[1:] if stress else unstressed(fields[1:])
        prons = lexicon.setdefault(word, [])
        if pron not in prons:
            prons.append(pron)
    return lexicon


def edit_distance(a, b):
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[len(b)]


def scores(hypotheses, lexicon):
    wrong = errors = length = 0
    for word, refs in lexicon.items():
        hyp = hypotheses.get(word, [])
        wrong += hyp not in refs
        distance, n = min((edit_distance(hyp, r), len(r)) for r in refs)
        errors += distance
        length += n
    return 100.0 * wrong / len(lexicon), 100.0 * errors / length


def train(train_file: Path, work: Path, order: int, stress: bool, env) -> dict:
    digest = hashlib.sha256(train_file.read_bytes()).hexdigest()[:16]
    model_dir = work / f"{digest}-o{order}{'-stress' if stress else ''}"
    record = model_dir / "train.json"
    if record.exists():
        return json.loads(record.read_text())
    model_dir.mkdir(parents=True, exist_ok=True)
    lexicon = read_lexicon(train_file, stress)
    plain = model_dir / "train.tsv"
    with plain.open("w", encoding="utf-8") as out:
        for word, prons in lexicon.items():
            for pron in prons:
                out.write(f"{word}\t{' '.join(pron)}\n")
    corpus, arpa, fst = model_dir / "aligned.corpus", model_dir / "model.arpa", model_dir / "model.fst"
    with corpus.open("wb") as out:
        align = run_measured(
            ["phonetisaurus-align", f"--input={plain}", f"--ofile={corpus}", "--seq1_del=false",
             "--seq2_del=true", "--seq1_max=2", "--seq2_max=2", "--grow=false"],
            env,
        )
    ngram = run_measured(["estimate-ngram", "-o", str(order), "-t", str(corpus), "-wl", str(arpa)], env)
    wfst = run_measured(["phonetisaurus-arpa2wfst", f"--lm={arpa}", f"--ofile={fst}"], env)
    result = {
        "impl": "phonetisaurus", "bench": "g2p_train", "order": order, "stress": stress,
        "cpu_s": align[0] + ngram[0] + wfst[0],
        "align_cpu_s": align[0], "ngram_cpu_s": ngram[0], "fst_cpu_s": wfst[0],
        "model": str(fst),
    }
    record.write_text(json.dumps(result))
    return result


def decode(fst: Path, test_file: Path, work: Path, stress: bool, env) -> dict:
    lexicon = read_lexicon(test_file, stress)
    words = work / "test.words"
    words.write_text("".join(f"{w}\n" for w in lexicon), encoding="utf-8")
    out_path = work / "test.hyp"
    common = ["phonetisaurus-g2pfst", f"--model={fst}", "--nbest=1", "--beam=10000",
              "--thresh=99", "--pmass=0"]
    # Model load alone: one word.
    one = work / "one.word"
    one.write_text(next(iter(lexicon)) + "\n", encoding="utf-8")
    load_cpu, _, _ = run_measured(common + [f"--wordlist={one}"], env)
    with out_path.open("wb") as out:
        cpu, rss, wall = run_measured(common + [f"--wordlist={words}"], env, stdout=out)
    hypotheses = {}
    for line in out_path.read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        if len(fields) >= 3:
            hypotheses.setdefault(fields[0], fields[2].split())
    wer, per = scores(hypotheses, lexicon)
    result = {
        "impl": "phonetisaurus", "bench": "g2p", "beam": 1, "words": len(lexicon),
        "cpu_s": cpu, "wall_s": wall, "words_per_cpu_s": len(lexicon) / cpu,
        "peak_rss_mib": rss, "load_cpu_s": load_cpu, "wer": wer, "per": per,
    }
    if stress:
        bare = {}
        for word, refs in lexicon.items():
            bare[word] = []
            for ref in refs:
                if unstressed(ref) not in bare[word]:
                    bare[word].append(unstressed(ref))
        hyps = {word: unstressed(hyp) for word, hyp in hypotheses.items()}
        result["wer_unstressed"], result["per_unstressed"] = scores(hyps, bare)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, default=Path("../shared/data/cmudict/g014b2b.train"))
    parser.add_argument("--test", type=Path, default=Path("../shared/data/cmudict/g014b2b.test"))
    parser.add_argument("--work", type=Path, default=Path("target/phonetisaurus"),
                        help="models (cached by training file) and decoding files")
    parser.add_argument("--venv", type=Path, default=None,
                        help="where to install Phonetisaurus if this Python lacks it (default: WORK/venv)")
    parser.add_argument("--order", type=int, default=8)
    parser.add_argument("--stress", action="store_true",
                        help="keep stress digits (train and score with them; also score without)")
    args = parser.parse_args()
    for path in (args.train, args.test):
        if not path.is_file():
            sys.exit(f"error: {path}: no such file")
    args.work.mkdir(parents=True, exist_ok=True)
    env = tools_env(ensure_phonetisaurus((args.venv or args.work / "venv").resolve()))
    trained = train(args.train, args.work, args.order, args.stress, env)
    print(json.dumps({k: v for k, v in trained.items() if k != "model"}), flush=True)
    print(json.dumps(decode(Path(trained["model"]), args.test, args.work, args.stress, env)), flush=True)


if __name__ == "__main__":
    main()
