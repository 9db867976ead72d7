# pyright: basic
"""proxy_command run for real in front of MCP servers, then the audit log it wrote."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import unittest
from datetime import datetime, timedelta, timezone
from itertools import islice
from typing import Any, Dict, List, Optional

from helpers import BINARY, FIXTURES, NODE, ROOT, TempDirTestCase, impostor

from kvlar import Audit, AuditFollower, AuditResultStats, Kvlar, KvlarInputError, KvlarUsageError

PROXY_POLICY = textwrap.dedent(
    """\
    name: proxy-test
    version: "1"
    rules:
      - id: allow-echo
        match_on: { resources: [echo] }
        effect: { type: allow }
      - id: deny-delete
        match_on: { resources: [delete_everything] }
        effect: { type: deny, reason: nothing gets deleted }
      - id: allow-reads
        match_on: { resources: [read_text_file, read_file, list_directory, list_allowed_directories] }
        effect: { type: allow }
    """
)

FILESYSTEM_SERVER = os.path.join(
    ROOT, "packages", "cli", "node_modules", "@modelcontextprotocol", "server-filesystem", "dist", "index.js"
)


class McpClient:
    """Just enough of an MCP client over a process's stdio, to drive kvlar proxy."""

    def __init__(self, command: List[str], cwd: str) -> None:
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "NO_COLOR": "1"},
        )
        self.stderr: List[bytes] = []
        self.reader = threading.Thread(target=lambda: self.stderr.extend(self.process.stderr), daemon=True)  # type: ignore[arg-type]
        self.reader.start()
        self.next_id = 0

    def request(self, method: str, params: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        self.next_id += 1
        message = {"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params or {}}
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write((json.dumps(message) + "\n").encode())
        self.process.stdin.flush()
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise AssertionError(f"the proxy ended: {b''.join(self.stderr).decode(errors='replace')}")
            answer = json.loads(line)
            if answer.get("id") == self.next_id:
                return answer

    def notify(self, method: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps({"jsonrpc": "2.0", "method": method}) + "\n").encode())
        self.process.stdin.flush()

    def initialize(self) -> None:
        answer = self.request(
            "initialize",
            {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "py-test", "version": "1"}},
        )
        assert "result" in answer, answer
        self.notify("notifications/initialized")

    def call(self, name: str, arguments: Dict[str, Any]) -> str:
        answer = self.request("tools/call", {"name": name, "arguments": arguments})
        content = answer["result"]["content"]
        return "".join(part.get("text", "") for part in content)

    def close(self) -> int:
        assert self.process.stdin is not None
        self.process.stdin.close()
        code = self.process.wait(30)
        assert self.process.stdout is not None and self.process.stderr is not None
        self.process.stdout.close()
        self.reader.join(10)
        self.process.stderr.close()
        return code


def take(follower: AuditFollower, count: int, timeout: float = 30.0) -> List[Dict[str, Any]]:
    """Up to ``count`` records from ``follower``; a guard closes it after ``timeout`` s, so a
    record that never comes fails the test (fewer records) instead of hanging it."""
    guard = threading.Timer(timeout, follower.close)
    guard.daemon = True
    guard.start()
    try:
        return list(islice(follower, count))
    finally:
        guard.cancel()


def wait_until_open(follower: AuditFollower, path: str, timeout: float = 30.0) -> None:
    """Waits until the follower's CLI holds ``path`` open: it has read what was there, so a record
    written from now on is a new one (with n=0, one written before would be taken as old)."""
    fds = f"/proc/{follower.pid}/fd"
    if not os.path.isdir(fds):
        time.sleep(3)  # no /proc: give node time to start
        return
    wanted = os.path.realpath(path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if any(os.path.realpath(os.path.join(fds, fd)) == wanted for fd in os.listdir(fds)):
                time.sleep(0.2)  # its first read follows the open at once
                return
        except OSError:
            pass  # a descriptor closed while listed
        time.sleep(0.05)
    raise AssertionError(f"kvlar audit tail --follow did not open {path} in {timeout} s")


class ProxyAuditTest(TempDirTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.write({"policy.yaml": PROXY_POLICY})
        self.kvlar = Kvlar(self.path("policy.yaml"), binary=BINARY, agent_id="py-agent")
        self.audit_file = self.path("logs/audit.jsonl")
        os.makedirs(os.path.dirname(self.audit_file))
        self.calls = self.path("calls.jsonl")

    def run_proxy(self, *extra_args: str, audit_results: bool = False) -> None:
        command = self.kvlar.proxy_command(
            [sys.executable, os.path.join(FIXTURES, "mcp_server.py"), self.calls],
            audit=self.audit_file,
            audit_results=audit_results,
            server_name="fixture",
            extra_args=extra_args,
        )
        client = McpClient(command, cwd=os.path.dirname(self.dir))
        client.initialize()
        self.assertIn('"name": "echo"', client.call("echo", {"text": "hi"}))
        blocked = client.call("delete_everything", {"really": True})
        self.assertIn("BLOCKED BY KVLAR", blocked)
        self.assertIn("nothing gets deleted", blocked)
        self.assertIn('"name": "echo"', client.call("echo", {"text": "again"}))
        self.assertEqual(client.close(), 0)

    def test_proxy_command_is_a_command_line_kvlar_proxy_runs(self) -> None:
        command = self.kvlar.proxy_command(
            ["npx", "-y", "some-server", "--flag"], audit="a.jsonl", audit_results=True, audit_sync="always", watch=True, mode="audit"
        )
        self.assertEqual(command[: len(BINARY)], BINARY)
        self.assertEqual(command[len(BINARY) : len(BINARY) + 2], ["proxy", "--stdio"])
        self.assertIn(f"--policy={self.path('policy.yaml')}", command)
        self.assertIn(f"--audit={os.path.join(os.getcwd(), 'a.jsonl')}", command)
        self.assertIn("--agent-id=py-agent", command)
        self.assertEqual(command[command.index("--") :], ["--", "npx", "-y", "some-server", "--flag"])
        with self.assertRaises(TypeError):
            self.kvlar.proxy_command("npx some-server")  # type: ignore[arg-type]
        with self.assertRaises(ValueError):
            self.kvlar.proxy_command(["x"], mode="shadow")
        self.assertIn("--audit-results", command)
        self.assertIn("--audit-sync=always", command)
        self.assertNotIn("--audit-results", self.kvlar.proxy_command(["x"], audit="a.jsonl"))
        with self.assertRaisesRegex(ValueError, "audit_sync must be"):
            self.kvlar.proxy_command(["x"], audit="a.jsonl", audit_sync="sometimes")
        with self.assertRaisesRegex(ValueError, "need audit"):
            self.kvlar.proxy_command(["x"], audit_results=True)
        # The flags are ones kvlar proxy knows: its --help-level check of them passes.
        flags = [part for part in command[len(BINARY) + 1 : command.index("--")]]
        checked = subprocess.run(BINARY + ["proxy"] + flags + ["--help"], capture_output=True, text=True)
        self.assertEqual(checked.returncode, 0, checked.stderr)

    def test_the_proxy_blocks_what_the_policy_denies_and_audits_everything(self) -> None:
        self.run_proxy()
        with open(self.calls, encoding="utf-8") as file:
            reached = [json.loads(line)["name"] for line in file]
        self.assertEqual(reached, ["echo", "echo"], "the denied call never reached the server")

        verification = self.kvlar.audit.verify(self.audit_file)
        self.assertTrue(verification.ok)
        self.assertEqual(verification.records, 3)
        self.assertEqual((verification.files, verification.chains), (1, 1))
        self.assertIsNone(verification.failure)

        stats = self.kvlar.audit.stats(self.audit_file)
        self.assertEqual(stats.events, 3)
        self.assertEqual((stats.outcomes.allowed, stats.outcomes.denied, stats.outcomes.pending_approval), (2, 1, 0))
        self.assertEqual([(item.name, item.count) for item in stats.resources], [("echo", 2), ("delete_everything", 1)])
        self.assertEqual([item.name for item in stats.agents], ["py-agent"])
        self.assertIsNotNone(stats.first)
        self.assertEqual(stats.results, AuditResultStats(ok=0, error=0, p50_ms=None, max_ms=None))

        records = self.kvlar.audit.records(self.audit_file, outcome="denied")
        self.assertEqual([(record["resource"], record["matched_rule"]) for record in records], [("delete_everything", "deny-delete")])
        self.assertEqual(len(self.kvlar.audit.records(self.audit_file, resource="echo", server="fixture")), 2)
        later = datetime.now(timezone.utc) + timedelta(hours=1)
        self.assertEqual(self.kvlar.audit.records(self.audit_file, since=later), ())

        csv = self.kvlar.audit.export(self.audit_file, "csv")
        self.assertEqual(len(csv.strip().splitlines()), 4)
        cef = self.kvlar.audit.export(self.audit_file, format="cef", outcome="denied")
        self.assertTrue(cef.startswith("CEF:0|"), cef)

        out = self.path("export.jsonl")
        self.assertEqual(self.kvlar.audit.export(self.audit_file, output=out), "")
        with open(out, encoding="utf-8") as file:
            self.assertEqual(len(file.read().splitlines()), 3)

    def test_tail_returns_the_last_records_the_proxy_wrote_in_log_order(self) -> None:
        self.run_proxy()
        audit = self.kvlar.audit
        everything = audit.records(self.audit_file)
        self.assertEqual(audit.tail(self.audit_file), everything, "n=10 is more than there are")
        last_two = audit.tail(self.audit_file, 2)
        self.assertEqual([record["resource"] for record in last_two], ["delete_everything", "echo"])
        self.assertEqual(last_two, everything[1:])
        denied = audit.tail(self.audit_file, outcome="denied")
        self.assertEqual([(record["resource"], record["reason"]) for record in denied], [("delete_everything", "nothing gets deleted")])
        self.assertEqual(audit.tail(self.audit_file, 1, resource="echo"), everything[2:])
        self.assertEqual(audit.tail(self.audit_file, 0), ())

    def test_follow_yields_the_records_a_later_proxy_run_writes_in_order(self) -> None:
        self.run_proxy()
        before = {record["id"] for record in self.kvlar.audit.records(self.audit_file)}
        with self.kvlar.audit.follow(self.audit_file) as follower:
            wait_until_open(follower, self.audit_file)
            self.run_proxy()
            written = take(follower, 3)
            self.assertIsNone(follower.returncode, "still following")
        self.assertEqual(
            [(record["resource"], record["outcome"]) for record in written],
            [("echo", "allowed"), ("delete_everything", "denied"), ("echo", "allowed")],
        )
        self.assertFalse(before & {record["id"] for record in written}, "n=0: none of the records already there")
        self.assertEqual(tuple(written), self.kvlar.audit.records(self.audit_file)[3:])
        self.assertIn(follower.returncode, (0, -signal.SIGTERM), "stopped")
        self.assertTrue(self.kvlar.audit.verify(self.audit_file).ok)

    def test_with_audit_results_each_forwarded_call_gets_a_result_record(self) -> None:
        self.run_proxy(audit_results=True)
        self.assertEqual(self.kvlar.audit.verify(self.audit_file).records, 5)

        stats = self.kvlar.audit.stats(self.audit_file)
        self.assertEqual(stats.events, 3, "results are not events")
        self.assertEqual((stats.outcomes.allowed, stats.outcomes.denied), (2, 1))
        self.assertEqual([(item.name, item.count) for item in stats.resources], [("echo", 2), ("delete_everything", 1)])
        self.assertEqual((stats.results.ok, stats.results.error), (2, 0))
        assert stats.results.p50_ms is not None and stats.results.max_ms is not None
        self.assertGreaterEqual(stats.results.max_ms, stats.results.p50_ms)

        decisions = self.kvlar.audit.records(self.audit_file, kind="decisions")
        self.assertEqual([record["resource"] for record in decisions], ["echo", "delete_everything", "echo"])
        self.assertTrue(all("upstream" not in record for record in decisions))
        results = self.kvlar.audit.records(self.audit_file, kind="results")
        self.assertEqual([record["upstream"]["ok"] for record in results], [True, True])
        forwarded = [record["id"] for record in decisions if record["outcome"] == "allowed"]
        self.assertEqual(sorted(record["call_id"] for record in results), sorted(forwarded))

        csv = self.kvlar.audit.export(self.audit_file, "csv", kind="results").splitlines()
        self.assertEqual(len(csv), 3)
        self.assertTrue(csv[0].endswith(",call_id,upstream_ok,upstream_error,duration_ms"), csv[0])
        self.assertEqual([row.split(",")[11] for row in csv[1:]], ["true", "true"])

    def test_a_tampered_log_fails_verification_at_the_edited_line(self) -> None:
        self.run_proxy()
        with open(self.audit_file, encoding="utf-8") as file:
            lines = file.read().splitlines()
        edited = json.loads(lines[1])
        edited["outcome"] = "allowed"
        lines[1] = json.dumps(edited)
        with open(self.audit_file, "w", encoding="utf-8") as file:
            file.write("\n".join(lines) + "\n")
        verification = Audit(binary=BINARY).verify(self.audit_file)
        self.assertFalse(verification.ok)
        assert verification.failure is not None
        self.assertEqual(verification.failure.line, 2)
        self.assertTrue(verification.failure.file and verification.failure.file.endswith("audit.jsonl"))

    def test_audit_errors_are_typed(self) -> None:
        audit = Audit(binary=BINARY)
        with self.assertRaises(KvlarInputError):
            audit.stats(self.path("missing.jsonl"))
        with self.assertRaises(KvlarInputError):
            audit.export(self.path("missing.jsonl"))
        self.write({"empty.jsonl": ""})
        with self.assertRaises(KvlarUsageError):
            audit.export(self.path("empty.jsonl"), format="xml")
        with self.assertRaises(ValueError):
            audit.export(self.path("empty.jsonl"), since=datetime(2026, 1, 1))
        self.assertEqual(audit.verify(self.path("empty.jsonl")).records, 0)

    def test_a_bad_kind_is_refused_before_anything_runs(self) -> None:
        # The impostor exits 2 for any audit command (a KvlarUsageError): a ValueError means it never ran.
        audit = Audit(binary=impostor("crash"))
        for kind in ("result", "Results", "", 1):
            with self.assertRaises(ValueError):
                audit.export(self.audit_file, kind=kind)  # type: ignore[arg-type]
        with self.assertRaises(ValueError):
            audit.records(self.audit_file, kind="decision")
        with self.assertRaises(KvlarUsageError):
            audit.export(self.audit_file, kind="results")

    @unittest.skipUnless(os.path.isfile(FILESYSTEM_SERVER), "@modelcontextprotocol/server-filesystem is not installed")
    def test_behind_the_real_filesystem_server(self) -> None:
        self.write({"data/notes.txt": "hello from the filesystem\n"})
        command = self.kvlar.proxy_command([NODE or "node", FILESYSTEM_SERVER, self.path("data")], audit=self.audit_file)
        client = McpClient(command, cwd=self.dir)
        client.initialize()
        text = client.call("read_text_file", {"path": self.path("data/notes.txt")})
        self.assertIn("hello from the filesystem", text)
        blocked = client.call("write_file", {"path": self.path("data/x.txt"), "content": "no"})
        self.assertIn("BLOCKED BY KVLAR", blocked)
        self.assertFalse(os.path.exists(self.path("data/x.txt")))
        self.assertEqual(client.close(), 0)
        self.assertTrue(self.kvlar.audit.verify(self.audit_file).ok)


def record(number: int, outcome: str = "allowed", **fields: Any) -> Dict[str, Any]:
    """A decision (or, with ``upstream``, a result) as the lenient reader takes it: no chain fields."""
    return {
        "id": f"00000000-0000-4000-8000-00000000000{number}",
        "timestamp": f"2026-03-01T10:0{number}:00.000Z",
        "action_type": "tool_call",
        "resource": "read_file",
        "agent_id": "claude",
        "outcome": outcome,
        "matched_rule": "allow-read" if outcome == "allowed" else "deny-shell",
        **fields,
    }


# Runs the real CLI, then takes "results" out of `audit stats --json` as a CLI before them printed it.
OLD_CLI = textwrap.dedent(
    """\
    import json, subprocess, sys
    done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
    out = done.stdout
    if "stats" in sys.argv and done.returncode == 0:
        value = json.loads(out)
        del value["results"]
        out = json.dumps(value)
    sys.stdout.write(out)
    sys.stderr.write(done.stderr)
    sys.exit(done.returncode)
    """
)


class AuditResultsTest(TempDirTestCase):
    """Result records with known durations and an error, written by hand (stats and export do not
    judge the hash chain; verify does)."""

    def setUp(self) -> None:
        super().setUp()
        records = [
            record(1),
            record(2, call_id=record(1)["id"], upstream={"ok": True, "duration_ms": 12}),
            record(3, "denied", resource="bash", reason="no shell"),
            record(4),
            record(5, call_id=record(4)["id"], upstream={"ok": False, "error": "unknown path (JSON-RPC -32602)", "duration_ms": 3080}),
            record(6),
            record(7, call_id=record(6)["id"], upstream={"ok": True, "duration_ms": 40.5}),
        ]
        self.write({"audit.jsonl": "".join(json.dumps(item) + "\n" for item in records)})
        self.log = self.path("audit.jsonl")

    def test_stats_count_decisions_as_events_and_results_apart(self) -> None:
        stats = Audit(binary=BINARY).stats(self.log)
        self.assertEqual(stats.events, 4)
        self.assertEqual((stats.outcomes.allowed, stats.outcomes.denied), (3, 1))
        self.assertEqual([(item.name, item.count) for item in stats.resources], [("read_file", 3), ("bash", 1)])
        self.assertEqual(stats.results, AuditResultStats(ok=2, error=1, p50_ms=40.5, max_ms=3080.0))
        self.assertEqual((stats.first, stats.last), ("2026-03-01T10:01:00.000Z", "2026-03-01T10:07:00.000Z"))

    def test_stats_summarise_only_what_the_filters_keep(self) -> None:
        audit = Audit(binary=BINARY)
        results = audit.stats(self.log, kind="results")
        self.assertEqual(results.events, 0)
        self.assertEqual((results.results.ok, results.results.error), (2, 1))
        bash = audit.stats(self.log, resource="bash")
        self.assertEqual((bash.events, bash.outcomes.denied), (1, 1))
        late = audit.stats(self.log, since="2026-03-01T10:06:00Z", kind="decisions")
        self.assertEqual(late.events, 1)
        with self.assertRaises(ValueError):
            audit.stats(self.log, kind="everything")

    def test_export_with_kind_results_yields_only_the_result_records(self) -> None:
        audit = Audit(binary=BINARY)
        results = audit.records(self.log, kind="results")
        self.assertEqual([item["id"][-1] for item in results], ["2", "5", "7"])
        self.assertTrue(all("upstream" in item and "call_id" in item for item in results))
        self.assertEqual([item["id"][-1] for item in audit.records(self.log, kind="decisions")], ["1", "3", "4", "6"])
        self.assertEqual(len(audit.records(self.log)), 7)
        # kind and the other filters combine: a result repeats its call's outcome.
        self.assertEqual(len(audit.records(self.log, kind="results", outcome="allowed")), 3)
        lines = audit.export(self.log, "jsonl", kind="results").splitlines()
        self.assertEqual([json.loads(line)["id"] for line in lines], [item["id"] for item in results])
        cef = audit.export(self.log, "cef", kind="results").splitlines()
        self.assertEqual([line.split("|")[4] for line in cef], ["upstream_ok", "upstream_error", "upstream_ok"])

    def test_an_older_cli_without_results_reads_as_none(self) -> None:
        self.write({"old_cli.py": OLD_CLI})
        stats = Audit(binary=[sys.executable, self.path("old_cli.py"), *BINARY]).stats(self.log)
        self.assertEqual(stats.events, 4)
        self.assertEqual(stats.results, AuditResultStats(ok=0, error=0, p50_ms=None, max_ms=None))
