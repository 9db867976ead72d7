# pyright: basic
"""Audit.tail and Audit.follow on hand-written logs: filters, n, errors, and the follower's process.

The records written by a real proxy, tailed and followed, are in test_proxy_audit.py.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import stat
import threading
import unittest
from typing import Any, Dict, List

from helpers import BIN_JS, BINARY, NODE, TempDirTestCase, impostor
from test_proxy_audit import record, take

from kvlar import (
    Audit,
    AuditFollower,
    KvlarCommandError,
    KvlarInputError,
    KvlarNotFoundError,
    KvlarProtocolError,
    KvlarUsageError,
)


#: How close() leaves the CLI: exit 0 once it follows; killed by SIGTERM while it still starts.
STOPPED = (0, -signal.SIGTERM)


def ids(records: Any) -> List[str]:
    """The last digit of each record's id: the number ``record()`` was given."""
    return [item["id"][-1] for item in records]


class AuditTailTest(TempDirTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.log = self.path("audit.jsonl")
        self.append(
            record(1),
            record(2, call_id=record(1)["id"], upstream={"ok": True, "duration_ms": 12}),
            record(3, "denied", resource="bash", reason="no shell"),
            record(4),
            record(5, "denied", resource="bash", reason="no shell"),
            record(6),
        )
        self.audit = Audit(binary=BINARY)

    def append(self, *records: Dict[str, Any]) -> None:
        with open(self.log, "a", encoding="utf-8") as file:
            file.write("".join(json.dumps(item) + "\n" for item in records))

    def follow(self, *args: Any, **kwargs: Any) -> AuditFollower:
        follower = self.audit.follow(*args, **kwargs)
        self.addCleanup(follower.close)
        return follower

    def test_tail_keeps_the_last_n_records_the_filters_keep_oldest_first(self) -> None:
        self.assertEqual(ids(self.audit.tail(self.log, 2)), ["5", "6"])
        self.assertEqual(ids(self.audit.tail(self.log, n=3, kind="decisions")), ["4", "5", "6"])
        self.assertEqual(ids(self.audit.tail(self.log, outcome="denied")), ["3", "5"])
        self.assertEqual(ids(self.audit.tail(self.log, 1, resource="bash", until="2026-03-01T10:04:00Z")), ["3"])
        self.assertEqual(self.audit.tail(self.log), self.audit.records(self.log))
        self.assertEqual(self.audit.tail(self.log, 0), ())

    def test_tail_errors_are_typed(self) -> None:
        with self.assertRaises(KvlarInputError) as raised:
            self.audit.tail(self.path("missing.jsonl"))
        self.assertIn("cannot read", raised.exception.stderr)
        with self.assertRaises(KvlarUsageError):
            self.audit.tail(self.log, since="yesterday")
        with self.assertRaisesRegex(KvlarProtocolError, "line 2 is not JSON"):
            Audit(binary=impostor("not-json")).tail(self.log)

    def test_a_bad_n_or_kind_is_refused_before_anything_runs(self) -> None:
        # The impostor exits 2 for these commands (a KvlarUsageError): a ValueError means it never ran.
        audit = Audit(binary=impostor("crash"))
        for n in (-1, True, 1.5, "3", None):
            with self.assertRaises(ValueError):
                audit.tail(self.log, n)  # type: ignore[arg-type]
            with self.assertRaises(ValueError):
                audit.follow(self.log, n=n)  # type: ignore[arg-type]
        with self.assertRaises(ValueError):
            audit.follow(self.log, kind="bad")
        with self.assertRaises(ValueError):
            audit.follow(self.log, outcome="")

    def test_follow_yields_the_last_n_then_each_record_appended(self) -> None:
        follower = self.follow(self.log, n=2, kind="decisions")
        self.assertEqual(ids(take(follower, 2)), ["5", "6"])
        self.append(record(7, call_id=record(6)["id"], upstream={"ok": True, "duration_ms": 3}), record(8, "denied"))
        self.append(record(9))
        self.assertEqual(ids(take(follower, 2)), ["8", "9"], "the result record is filtered out")

    def test_close_from_another_thread_ends_the_iteration_and_stops_the_process(self) -> None:
        follower = self.follow(self.log)
        seen: List[Dict[str, Any]] = []
        reader = threading.Thread(target=lambda: seen.extend(follower), daemon=True)
        reader.start()
        reader.join(1.5)
        self.assertTrue(reader.is_alive(), "blocked, waiting for a record")
        self.assertIsNone(follower.returncode)
        follower.close()
        reader.join(10)
        self.assertFalse(reader.is_alive(), "close() ended the iteration")
        self.assertEqual(seen, [])
        self.assertIn(follower.returncode, STOPPED)
        follower.close()
        self.assertIn(follower.returncode, STOPPED)
        self.assertEqual(list(follower), [])

    def test_a_with_block_stops_the_process_even_when_it_raises(self) -> None:
        with self.follow(self.log, n=1) as follower:
            self.assertIsInstance(follower, AuditFollower)
            self.assertEqual(ids(take(follower, 1)), ["6"])
            self.assertIsNone(follower.returncode)
        self.assertIn(follower.returncode, STOPPED)
        with self.assertRaises(RuntimeError):
            with self.follow(self.log) as follower:
                raise RuntimeError("the body failed")
        self.assertIn(follower.returncode, STOPPED)

    def test_a_follower_dropped_without_close_is_stopped_when_collected(self) -> None:
        follower = self.audit.follow(self.log)
        pid = follower.pid
        del follower
        gc.collect()
        with self.assertRaises(ProcessLookupError):
            os.kill(pid, 0)

    def test_follow_raises_what_the_cli_exits_with(self) -> None:
        missing = self.follow(self.path("missing.jsonl"))
        with self.assertRaises(KvlarInputError) as raised:
            next(missing)
        self.assertEqual(raised.exception.returncode, 1)
        self.assertIn("cannot read", raised.exception.stderr)
        self.assertIn("missing.jsonl", str(raised.exception))
        self.assertEqual(list(missing), [], "ended")
        with self.assertRaises(KvlarUsageError) as refused:
            take(self.follow(self.log, since="yesterday"), 1)
        self.assertIn("RFC 3339", refused.exception.stderr)
        # Killed from outside: neither a stop it asked for nor the CLI's own exit.
        killed = self.follow(self.log)
        os.kill(killed.pid, signal.SIGKILL)
        with self.assertRaises(KvlarCommandError) as died:
            next(killed)
        self.assertIn("signal 9", str(died.exception))

    def test_a_line_that_is_not_json_is_a_protocol_error_and_stops_the_process(self) -> None:
        follower = Audit(binary=impostor("not-json")).follow(self.log)
        self.addCleanup(follower.close)
        self.assertEqual(next(follower)["resource"], "echo")
        with self.assertRaisesRegex(KvlarProtocolError, "line 2 is not JSON"):
            next(follower)
        self.assertIsNotNone(follower.returncode, "stopped")
        self.assertEqual(list(follower), [])

    @unittest.skipUnless(os.name == "posix", "file modes")
    def test_a_binary_gone_since_audit_was_made_is_not_found(self) -> None:
        self.write({"kvlar": f'#!/bin/sh\nexec "{NODE}" "{BIN_JS}" "$@"\n'})
        os.chmod(self.path("kvlar"), 0o755)
        audit = Audit(binary=self.path("kvlar"))
        os.remove(self.path("kvlar"))
        with self.assertRaises(KvlarNotFoundError):
            audit.follow(self.log)

    @unittest.skipUnless(os.name == "posix", "a shell wrapper")
    def test_close_stops_the_node_a_wrapper_started_without_exec(self) -> None:
        # The shell waits for node, which holds the pipe: stopping the shell alone would leave
        # node running and the reader waiting.
        self.write({"kvlar": f'#!/bin/sh\n"{NODE}" "{BIN_JS}" "$@"\n'})
        os.chmod(self.path("kvlar"), os.stat(self.path("kvlar")).st_mode | stat.S_IXUSR)
        follower = Audit(binary=self.path("kvlar")).follow(self.log, n=1)
        self.addCleanup(follower.close)
        self.assertEqual(ids(take(follower, 1)), ["6"])
        reader = threading.Thread(target=lambda: list(follower), daemon=True)
        reader.start()
        follower.close()
        reader.join(10)
        self.assertFalse(reader.is_alive(), "node stopped and closed the pipe")
