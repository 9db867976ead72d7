# pyright: basic
"""proxy_command run for real in front of MCP servers, then the audit log it wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import unittest
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional

from helpers import BINARY, FIXTURES, NODE, ROOT, TempDirTestCase

from kvlar import Audit, Kvlar, KvlarInputError, KvlarUsageError

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


class ProxyAuditTest(TempDirTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.write({"policy.yaml": PROXY_POLICY})
        self.kvlar = Kvlar(self.path("policy.yaml"), binary=BINARY, agent_id="py-agent")
        self.audit_file = self.path("logs/audit.jsonl")
        os.makedirs(os.path.dirname(self.audit_file))
        self.calls = self.path("calls.jsonl")

    def run_proxy(self) -> None:
        command = self.kvlar.proxy_command(
            [sys.executable, os.path.join(FIXTURES, "mcp_server.py"), self.calls],
            audit=self.audit_file,
            server_name="fixture",
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
        command = self.kvlar.proxy_command(["npx", "-y", "some-server", "--flag"], audit="a.jsonl", watch=True, mode="audit")
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
