# pyright: basic
"""Shared by the tests: the built CLI, temporary directories, and the example policy.

The tests run the real ``kvlar`` (``packages/cli/dist/bin.js``, built first); nothing is mocked.
``KVLAR_TEST_CLI`` points them at another ``bin.js``.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import textwrap
import unittest
from typing import Dict, List

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
FIXTURES = os.path.join(HERE, "fixtures")
BIN_JS = os.environ.get("KVLAR_TEST_CLI") or os.path.join(ROOT, "packages", "cli", "dist", "bin.js")
NODE = shutil.which("node")

if NODE is None:
    raise RuntimeError("node is not on PATH: the tests run the real kvlar CLI")
if not os.path.isfile(BIN_JS):
    raise RuntimeError(f"{BIN_JS} is missing: build the CLI first (npx -y pnpm@10 --filter @kvlar/cli build)")

#: The command line of the CLI under test, as ``Kvlar(binary=…)`` takes it.
BINARY: List[str] = [NODE, BIN_JS]

POLICY = textwrap.dedent(
    """\
    name: my-policy
    description: Reads are fine, shells are not, writes under /etc need a human
    version: "1.0"
    rules:
      - id: allow-read
        match_on:
          resources: ["read_*"]
        effect: { type: allow }
      - id: deny-shell
        match_on:
          resources: [bash]
        effect: { type: deny, reason: shell is not allowed }
      - id: approve-etc-write
        match_on:
          resources: [write_file]
          parameters: { path: "^/etc/" }
        effect: { type: require_approval, reason: writes under /etc need a human }
    """
)

POLICY_TESTS = textwrap.dedent(
    """\
    policy: policy.yaml
    tests:
      - id: read-allowed
        action: { resource: read_file, parameters: { path: /tmp/notes.txt } }
        expect: allow
      - id: bash-denied
        action: { resource: bash, parameters: { command: ls } }
        expect: deny
        rule: deny-shell
      - id: etc-write-needs-approval
        action: { resource: write_file, parameters: { path: /etc/hosts } }
        expect: require_approval
        reason_contains: /etc
    """
)


class TempDirTestCase(unittest.TestCase):
    """A test with a fresh temporary directory, removed afterwards."""

    def setUp(self) -> None:
        super().setUp()
        self.dir = tempfile.mkdtemp(prefix="kvlar-py-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def write(self, files: Dict[str, str]) -> None:
        for name, text in files.items():
            path = os.path.join(self.dir, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as file:
                file.write(text)

    def path(self, name: str) -> str:
        return os.path.join(self.dir, name)


def impostor(mode: str) -> List[str]:
    """A binary that is not kvlar and misbehaves as ``mode`` says (see fixtures/impostor.py)."""
    return [sys.executable, os.path.join(FIXTURES, "impostor.py"), mode]
