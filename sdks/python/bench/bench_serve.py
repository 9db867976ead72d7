"""How many decisions per second the Python SDK gets: ``Kvlar.evaluate`` through one
``kvlar serve --stdio`` process, against ``Kvlar.evaluate_once`` (a ``kvlar evaluate`` process
per call). Prints markdown: the machine, then one row per mode.

    python3 sdks/python/bench/bench_serve.py [--calls N] [--once N] [--rounds N] [--threads N]

Runs the SDK from sdks/python/src and the CLI from packages/cli/dist/bin.js (build it first), or
the binary in ``$KVLAR_BIN``. The policy is the shipped ``policies/default.yaml`` (16 rules, path
and secret checks on arguments); calls cycle through an allow, a deny and a require_approval.
It never fails on a timing; it aborts if a decision is not the expected one.
"""

# pyright: basic
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "src"))

from kvlar import Kvlar, Outcome  # noqa: E402

CALLS: List[Tuple[str, Dict[str, Any], Outcome]] = [
    ("read_file", {"path": "/home/me/project/notes.txt"}, Outcome.ALLOW),
    ("bash", {"command": "ls -la"}, Outcome.DENY),
    ("write_file", {"path": "/home/me/project/out.txt", "content": "hello"}, Outcome.REQUIRE_APPROVAL),
]


def binary() -> List[str]:
    from_env = os.environ.get("KVLAR_BIN")
    if from_env:
        return [from_env]
    bin_js = os.path.join(ROOT, "packages", "cli", "dist", "bin.js")
    node = shutil.which("node")
    if node is None or not os.path.isfile(bin_js):
        sys.exit("bench_serve.py: build the CLI first (npx -y pnpm@10 --filter @kvlar/cli build), or set KVLAR_BIN")
    return [node, bin_js]


def check(outcome: Outcome, expected: Outcome, tool: str) -> None:
    if outcome is not expected:
        sys.exit(f"bench_serve.py: {tool} was {outcome}, expected {expected}: the benchmark measures the wrong thing")


def sequential(evaluate: Callable[..., Any], calls: int) -> Tuple[float, List[float]]:
    """Seconds for `calls` calls one after the other, and each call's latency."""
    latencies: List[float] = []
    started = time.perf_counter()
    for index in range(calls):
        tool, arguments, expected = CALLS[index % len(CALLS)]
        before = time.perf_counter()
        decision = evaluate(tool, arguments)
        latencies.append(time.perf_counter() - before)
        check(decision.outcome, expected, tool)
    return time.perf_counter() - started, latencies


def threaded(kvlar: Kvlar, calls: int, threads: int) -> float:
    """Seconds for `calls` calls from `threads` threads at once, on one serve process."""
    per_thread = calls // threads
    failures: List[BaseException] = []

    def work(offset: int) -> None:
        try:
            for index in range(per_thread):
                tool, arguments, expected = CALLS[(offset + index) % len(CALLS)]
                check(kvlar.evaluate(tool, arguments).outcome, expected, tool)
        except BaseException as error:
            failures.append(error)

    workers = [threading.Thread(target=work, args=(offset,)) for offset in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if failures:
        raise failures[0]
    return time.perf_counter() - started


ECHO = "process.stdin.pipe(process.stdout);"


class EchoBaseline:
    """The floor for any sequential call: one request line to a Node process that echoes it, one
    line back, read the way the SDK reads answers. Measured in the same run, so the ratio of serve
    to it says what kvlar and the SDK cost on this machine at this moment."""

    def __init__(self) -> None:
        node = shutil.which("node") or "node"
        self.process = subprocess.Popen([node, "-e", ECHO], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.line = b'{"id": 1, "tool": "read_file", "arguments": {"path": "/home/me/project/notes.txt"}}\n'

    def round(self, calls: int) -> float:
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        started = time.perf_counter()
        for _ in range(calls):
            stdin.write(self.line)
            stdin.flush()
            stdout.readline()
        return time.perf_counter() - started

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait()


def percentile(values: List[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as file:
            for line in file:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, Node {node}; load average {load:.2f} at start"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=20_000, help="calls per round through serve (default 20000)")
    parser.add_argument("--once", type=int, default=60, help="calls through evaluate_once (default 60)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of each serve mode (default 5)")
    parser.add_argument("--threads", type=int, default=4, help="threads for the threaded mode (default 4)")
    options = parser.parse_args()

    policy = os.path.join(ROOT, "policies", "default.yaml")
    facts = machine()
    with Kvlar(policy, binary=binary(), agent_id="bench") as kvlar:
        info = kvlar.start()
        sequential(kvlar.evaluate, 2_000)  # warm-up: V8's JIT, the engine's caches
        echo = EchoBaseline()
        echo.round(2_000)
        rows = []
        rates: List[float] = []
        echo_rates: List[float] = []
        latencies: List[float] = []
        # Rounds interleave with the baseline's, so a busy moment weighs on both.
        for _ in range(options.rounds):
            echo_rates.append(options.calls / echo.round(options.calls))
            seconds, round_latencies = sequential(kvlar.evaluate, options.calls)
            rates.append(options.calls / seconds)
            latencies += round_latencies
        echo.close()
        rows.append(("baseline: a bare round trip to a Node echo process", options.calls * options.rounds, echo_rates, []))
        rows.append(("`evaluate`: serve, sequential, 1 thread", options.calls * options.rounds, rates, latencies))
        threaded_rates = [
            options.calls / threaded(kvlar, options.calls, options.threads) for _ in range(options.rounds)
        ]
        rows.append((f"`evaluate`: serve, {options.threads} threads", options.calls * options.rounds, threaded_rates, []))
        seconds, once_latencies = sequential(kvlar.evaluate_once, options.once)
        rows.append(("`evaluate_once`: a process per call", options.once, [options.once / seconds], once_latencies))

    print(f"Machine: {facts}. kvlar {info.version}, policy `policies/default.yaml` ({info.rules} rules).")
    print()
    print("| mode | calls | decisions/s (median of rounds) | range | p50 latency | p99 latency |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, count, round_rates, round_latencies in rows:
        median = statistics.median(round_rates)
        spread = f"{min(round_rates):,.0f}–{max(round_rates):,.0f}" if len(round_rates) > 1 else "—"
        p50 = _duration(percentile(round_latencies, 0.5)) if round_latencies else "—"
        p99 = _duration(percentile(round_latencies, 0.99)) if round_latencies else "—"
        print(f"| {name} | {count:,} | {median:,.0f} | {spread} | {p50} | {p99} |")
    ratio = statistics.median(rates) / statistics.median(echo_rates)
    print()
    print(f"Sequential decisions/s through serve are {ratio:.2f}× the bare round trip measured beside them.")


def _duration(seconds: float) -> str:
    if seconds >= 0.01:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds * 1e6:.0f} µs"


if __name__ == "__main__":
    main()
