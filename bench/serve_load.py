#!/usr/bin/env python3
"""`seq2seq serve` under load on 127.0.0.1, with the load generator `oha`
(`cargo install oha --locked`): requests per second, p50/p99 latency, the server's CPU time per
input, and its resident memory over a soak. Every run is bounded in time and stays on loopback.

    python bench/serve_load.py --seq2seq target/release/seq2seq --oha "$(command -v oha)" \
        [--seconds 20] [--soak-seconds 600]

Prints one JSON line per measurement:

    {"case": "g2p one word", "concurrency": 16, "beam": 5, "requests": ..., "failed": ...,
     "rps": ..., "p50_ms": ..., "p99_ms": ..., "server_cpu_s": ..., "inputs_per_cpu_s": ...}
    {"case": "soak", "minute": ..., "rss_mib": ..., ...}

and, for comparison, `predict`'s own inputs per CPU-second on the same inputs (the same word
or sentence repeated, one per line).
"""

import argparse
import json
import os
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PORT = 8790
WORD = "attention"
SENTENCE = "Ein Mann fährt mit dem Fahrrad."


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wait_ready() -> None:
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/health", timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not come up")


def oha(binary: str, model: str, body: dict, concurrency: int, seconds: float) -> dict:
    done = subprocess.run(
        [binary, "-z", f"{seconds}s", "-w", "-c", str(concurrency), "--no-tui",
         "--output-format", "json",
         "-m", "POST", "-H", "content-type: application/json", "-d", json.dumps(body),
         f"http://127.0.0.1:{PORT}/v1/models/{model}/predict"],
        capture_output=True, text=True, check=True, timeout=seconds + 120)
    return json.loads(done.stdout)


def load_case(args, pid, case, model, body, concurrency, seconds):
    before = cpu_seconds(pid)
    result = oha(args.oha, model, body, concurrency, seconds)
    cpu = cpu_seconds(pid) - before
    codes = result.get("statusCodeDistribution", {})
    ok = int(codes.get("200", 0))
    failed = sum(int(n) for code, n in codes.items() if code != "200") + sum(
        int(n) for n in result.get("errorDistribution", {}).values())
    latency = result["latencyPercentiles"]
    record = {"case": case, "concurrency": concurrency, "beam": body.get("beam", 5),
              "seconds": seconds, "requests": ok, "failed": failed,
              "rps": round(result["summary"]["requestsPerSec"], 1), "p50_ms": round(latency["p50"] * 1000, 2),
              "p99_ms": round(latency["p99"] * 1000, 2), "server_cpu_s": round(cpu, 2),
              "inputs_per_cpu_s": round(ok * len(body["inputs"]) / cpu, 1) if cpu else None,
              "rss_mib": round(rss_mib(pid), 1)}
    print(json.dumps(record), flush=True)
    return record


def predict_rate(binary: str, run: str, text: str, lines: int, beam: int) -> None:
    with tempfile.TemporaryFile("w+") as f:
        f.write((text + "\n") * lines)
        f.seek(0)
        child = subprocess.Popen([binary, "predict", "--run", run, "--beam", str(beam)],
                                 stdin=f, stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
    cpu = usage.ru_utime + usage.ru_stime
    print(json.dumps({"case": f"predict {Path(run).name}", "beam": beam, "inputs": lines,
                      "cpu_s": round(cpu, 2), "inputs_per_cpu_s": round(lines / cpu, 1),
                      "exit": os.waitstatus_to_exitcode(status)}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seq2seq", required=True)
    parser.add_argument("--oha", required=True)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--soak-seconds", type=float, default=600)
    args = parser.parse_args()
    g2p, de_en = str(REPO / "models/g2p-cmudict"), str(REPO / "models/multi30k-de-en")
    predict_rate(args.seq2seq, g2p, WORD, 12000, 5)
    predict_rate(args.seq2seq, g2p, WORD, 12000, 1)
    predict_rate(args.seq2seq, de_en, SENTENCE, 500, 5)
    server = subprocess.Popen([args.seq2seq, "serve", "--run", g2p, "--run", de_en,
                               "--port", str(PORT)], stderr=subprocess.DEVNULL)
    try:
        wait_ready()
        for concurrency in (1, 16, 64):
            load_case(args, server.pid, "g2p one word", "g2p-cmudict", {"inputs": [WORD]},
                      concurrency, args.seconds)
        load_case(args, server.pid, "g2p one word", "g2p-cmudict",
                  {"inputs": [WORD], "beam": 1}, 64, args.seconds)
        for concurrency in (1, 16, 64):
            load_case(args, server.pid, "translation one sentence", "multi30k-de-en",
                      {"inputs": [SENTENCE]}, concurrency, args.seconds)
        minutes = int(args.soak_seconds // 60)
        for minute in range(1, minutes + 1):
            record = load_case(args, server.pid, "soak g2p one word", "g2p-cmudict",
                               {"inputs": [WORD]}, 16, 60)
            print(json.dumps({"case": "soak", "minute": minute, "rss_mib": record["rss_mib"],
                              "failed": record["failed"]}), flush=True)
    finally:
        server.send_signal(signal.SIGTERM)
        print(json.dumps({"case": "shutdown", "exit": server.wait(timeout=60)}), flush=True)


if __name__ == "__main__":
    main()
