# pyright: basic
"""The kvlar serve session: threads, a process that dies, reloads, closing."""

from __future__ import annotations

import os
import signal
import threading
import time
import unittest
from typing import Dict, List

from helpers import BINARY, POLICY, TempDirTestCase

from kvlar import Kvlar, KvlarServeError, Outcome

EXPECTED: Dict[str, Outcome] = {
    "read_file": Outcome.ALLOW,
    "bash": Outcome.DENY,
    "write_file": Outcome.REQUIRE_APPROVAL,
}


def wait_until(check, what: str, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def save(path: str, text: str) -> None:
    """As an editor saves: a temporary file renamed over the original."""
    with open(path + ".tmp", "w", encoding="utf-8") as file:
        file.write(text)
    os.replace(path + ".tmp", path)


class ServeTest(TempDirTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.write({"policy.yaml": POLICY})
        self.kvlar = Kvlar(self.path("policy.yaml"), binary=BINARY)
        self.addCleanup(self.kvlar.close)

    def call(self, tool: str, index: int) -> Outcome:
        arguments = {"path": "/etc/hosts" if tool == "write_file" else f"/tmp/{index}", "n": index}
        return self.kvlar.evaluate(tool, arguments).outcome

    def test_one_process_answers_many_threads_each_with_its_own_decision(self) -> None:
        self.kvlar.start()
        pid = self.kvlar.serve_pid
        tools = list(EXPECTED)
        wrong: List[str] = []
        errors: List[BaseException] = []

        def worker(worker_index: int) -> None:
            try:
                for index in range(300):
                    tool = tools[(worker_index + index) % len(tools)]
                    outcome = self.call(tool, index)
                    if outcome is not EXPECTED[tool]:
                        wrong.append(f"{tool} → {outcome}")
            except BaseException as error:  # reported below, with the others
                errors.append(error)

        threads = [threading.Thread(target=worker, args=(index,)) for index in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        self.assertEqual(errors, [])
        self.assertEqual(wrong, [])
        self.assertEqual(self.kvlar.serve_pid, pid, "all of it went through one process")

    @unittest.skipUnless(hasattr(signal, "SIGKILL"), "POSIX signals")
    def test_a_killed_process_fails_the_call_then_a_new_one_starts(self) -> None:
        self.assertTrue(self.kvlar.evaluate("bash").denied)
        first = self.kvlar.serve_pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        with self.assertRaises(KvlarServeError) as raised:
            self.kvlar.evaluate("read_file")
        self.assertEqual(raised.exception.returncode, -signal.SIGKILL)
        self.assertIn("killed by signal", str(raised.exception))
        self.assertIsNone(self.kvlar.serve_pid)
        self.assertTrue(self.kvlar.evaluate("read_file").allowed)
        self.assertTrue(self.kvlar.evaluate("bash").denied)
        self.assertNotEqual(self.kvlar.serve_pid, first)

    @unittest.skipUnless(hasattr(signal, "SIGKILL"), "POSIX signals")
    def test_a_process_killed_under_load_never_yields_a_wrong_decision(self) -> None:
        self.kvlar.start()
        stop = threading.Event()
        failures: List[BaseException] = []
        wrong: List[str] = []
        answered = [0]

        def worker(worker_index: int) -> None:
            index = 0
            while not stop.is_set():
                tool = list(EXPECTED)[(worker_index + index) % 3]
                index += 1
                try:
                    outcome = self.call(tool, index)
                except KvlarServeError as error:
                    failures.append(error)
                    continue
                except BaseException as error:
                    failures.append(error)
                    return
                answered[0] += 1
                if outcome is not EXPECTED[tool]:
                    wrong.append(f"{tool} → {outcome}")

        threads = [threading.Thread(target=worker, args=(index,)) for index in range(4)]
        for thread in threads:
            thread.start()
        wait_until(lambda: answered[0] > 200, "some answers")
        pid = self.kvlar.serve_pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: self.kvlar.serve_pid not in (None, pid) and answered[0] > 400, "a new process")
        stop.set()
        for thread in threads:
            thread.join(30)
        self.assertEqual(wrong, [])
        self.assertTrue(failures, "the kill was seen by some call")
        self.assertTrue(all(isinstance(error, KvlarServeError) for error in failures), failures[:3])

    def test_close_ends_the_process_and_later_calls_raise(self) -> None:
        with Kvlar(self.path("policy.yaml"), binary=BINARY) as kvlar:
            kvlar.evaluate("bash")
            pid = kvlar.serve_pid
        assert pid is not None
        self.assertFalse(_alive(pid))
        with self.assertRaises(KvlarServeError):
            kvlar.evaluate("bash")
        kvlar.close()  # twice is fine

    def test_watch_reloads_an_edited_policy_and_keeps_the_last_good_one(self) -> None:
        policy = self.path("policy.yaml")
        with Kvlar(policy, binary=BINARY, watch=True) as kvlar:
            self.assertTrue(kvlar.evaluate("bash").denied)
            save(policy, POLICY.replace('resources: ["read_*"]', 'resources: ["read_*", bash]'))
            wait_until(lambda: kvlar.info().reloads == 1, "the reload")
            self.assertTrue(kvlar.evaluate("bash").allowed)

            save(policy, "name: broken\nversion: [\n")
            time.sleep(1.0)  # more than the watcher's debounce: the bad edit was seen and refused
            self.assertEqual(kvlar.info().reloads, 1)
            self.assertTrue(kvlar.evaluate("bash").allowed, "the last good policy is still in force")

    def test_many_calls_in_flight_at_once_each_get_their_own_answer(self) -> None:
        # Many calls in flight at once from a pool of threads on one process, in order.
        results: Dict[int, Outcome] = {}
        lock = threading.Lock()

        def run(index: int) -> None:
            tool = list(EXPECTED)[index % 3]
            outcome = self.call(tool, index)
            with lock:
                results[index] = outcome

        threads = [threading.Thread(target=run, args=(index,)) for index in range(64)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        self.assertEqual(len(results), 64)
        for index, outcome in results.items():
            self.assertIs(outcome, EXPECTED[list(EXPECTED)[index % 3]])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True
