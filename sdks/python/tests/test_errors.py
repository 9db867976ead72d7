# pyright: basic
"""What goes wrong raises a typed error; none of it ever becomes an allow."""

from __future__ import annotations

import os
import stat
import time
import unittest
from unittest import mock

from helpers import BIN_JS, BINARY, NODE, POLICY, TempDirTestCase, impostor

from kvlar import (
    Kvlar,
    KvlarError,
    KvlarNotFoundError,
    KvlarPolicyError,
    KvlarProtocolError,
    KvlarServeError,
    KvlarTimeoutError,
    resolve_binary,
)

BROKEN = 'name: broken\nversion: "1"\nrules:\n  - id: x\n    match_on: { resource: [bash] }\n    effect: { type: deny }\n'


class BadPolicyTest(TempDirTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.write({"broken.yaml": BROKEN, "policy.yaml": POLICY})

    def assert_located(self, error: KvlarPolicyError) -> None:
        located = [d for d in error.diagnostics if d.severity == "error"]
        self.assertTrue(located, error.stderr)
        self.assertTrue(located[0].file and located[0].file.endswith("broken.yaml"))
        self.assertEqual(located[0].line, 5)
        self.assertIsNotNone(located[0].column)
        self.assertIn('unknown key "resource"', located[0].message)

    def test_evaluate_raises_a_policy_error_with_file_line_and_column(self) -> None:
        with Kvlar(self.path("broken.yaml"), binary=BINARY) as kvlar:
            with self.assertRaises(KvlarPolicyError) as raised:
                kvlar.evaluate("bash")
            self.assert_located(raised.exception)
            self.assertEqual(raised.exception.returncode, 1)
            # Asking again starts again, and fails the same way: never a decision.
            with self.assertRaises(KvlarPolicyError):
                kvlar.evaluate("bash")

    def test_start_fails_fast(self) -> None:
        with Kvlar([self.path("policy.yaml"), self.path("broken.yaml")], binary=BINARY) as kvlar:
            with self.assertRaises(KvlarPolicyError) as raised:
                kvlar.start()
            self.assert_located(raised.exception)

    def test_evaluate_once_raises_a_policy_error(self) -> None:
        with self.assertRaises(KvlarPolicyError) as raised:
            Kvlar(self.path("broken.yaml"), binary=BINARY).evaluate_once("bash")
        self.assert_located(raised.exception)

    def test_a_missing_policy_file_is_a_policy_error(self) -> None:
        with Kvlar(self.path("missing.yaml"), binary=BINARY) as kvlar:
            with self.assertRaises(KvlarPolicyError) as raised:
                kvlar.evaluate("bash")
        self.assertIn("missing.yaml", str(raised.exception))


class MissingBinaryTest(TempDirTestCase):
    def test_a_path_that_does_not_exist(self) -> None:
        with self.assertRaises(KvlarNotFoundError) as raised:
            Kvlar(self.path("policy.yaml"), binary=self.path("no-such-kvlar"))
        self.assertIn("KVLAR_BIN", str(raised.exception))

    def test_a_command_line_whose_program_is_not_on_path(self) -> None:
        with self.assertRaises(KvlarNotFoundError):
            Kvlar("policy.yaml", binary=["no-such-program-kvlar-test", BIN_JS])

    def test_nothing_on_path_and_no_kvlar_bin(self) -> None:
        with mock.patch.dict(os.environ, {"PATH": self.dir, "KVLAR_BIN": ""}):
            with self.assertRaises(KvlarNotFoundError) as raised:
                Kvlar("policy.yaml")
        self.assertIn("npm install -g @kvlar/cli", str(raised.exception))

    def test_kvlar_bin_that_does_not_exist(self) -> None:
        with mock.patch.dict(os.environ, {"KVLAR_BIN": self.path("gone/kvlar")}):
            with self.assertRaises(KvlarNotFoundError) as raised:
                resolve_binary(None)
        self.assertIn("KVLAR_BIN", str(raised.exception))

    def test_an_empty_command_line_is_a_type_error(self) -> None:
        with self.assertRaises(TypeError):
            Kvlar("policy.yaml", binary=[])

    @unittest.skipUnless(os.name == "posix", "a shell wrapper")
    def test_kvlar_bin_and_path_find_a_wrapper(self) -> None:
        wrapper = self.path("bin/kvlar")
        self.write({"bin/kvlar": f'#!/bin/sh\nexec "{NODE}" "{BIN_JS}" "$@"\n', "policy.yaml": POLICY})
        os.chmod(wrapper, os.stat(wrapper).st_mode | stat.S_IXUSR)
        with mock.patch.dict(os.environ, {"KVLAR_BIN": wrapper}):
            with Kvlar(self.path("policy.yaml")) as kvlar:
                self.assertEqual(kvlar.binary, (wrapper,))
                self.assertTrue(kvlar.evaluate("bash").denied)
        path = os.path.dirname(wrapper) + os.pathsep + os.environ.get("PATH", "")
        with mock.patch.dict(os.environ, {"KVLAR_BIN": "", "PATH": path}):
            with Kvlar(self.path("policy.yaml")) as kvlar:
                self.assertEqual(kvlar.binary, (wrapper,))
                self.assertTrue(kvlar.evaluate_once("read_file").allowed)

    @unittest.skipUnless(os.name == "posix", "file modes")
    def test_a_file_that_is_not_executable(self) -> None:
        self.write({"kvlar": "not a program\n"})
        with self.assertRaises(KvlarNotFoundError) as raised:
            Kvlar("policy.yaml", binary=self.path("kvlar"))
        self.assertIn("not executable", str(raised.exception))


class ImpostorTest(TempDirTestCase):
    """A binary that says what kvlar never says: each answer is refused, never taken as allow."""

    def setUp(self) -> None:
        super().setUp()
        self.write({"policy.yaml": POLICY})

    def evaluate(self, mode: str, *, timeout: float = 30.0) -> None:
        with Kvlar(self.path("policy.yaml"), binary=impostor(mode), timeout=timeout) as kvlar:
            kvlar.evaluate("delete_everything")

    def test_an_unknown_decision(self) -> None:
        with self.assertRaisesRegex(KvlarProtocolError, "allow_with_warning"):
            self.evaluate("unknown-decision")
        with self.assertRaisesRegex(KvlarProtocolError, "allow_with_warning"):
            Kvlar(self.path("policy.yaml"), binary=impostor("unknown-decision")).evaluate_once("x")

    def test_an_answer_that_is_not_json(self) -> None:
        with self.assertRaises(KvlarProtocolError):
            self.evaluate("not-json")
        with self.assertRaises(KvlarProtocolError):
            Kvlar(self.path("policy.yaml"), binary=impostor("not-json")).evaluate_once("x")

    def test_an_answer_to_another_request(self) -> None:
        with self.assertRaisesRegex(KvlarProtocolError, "out of order"):
            self.evaluate("wrong-id")

    def test_an_answer_without_its_rule(self) -> None:
        with self.assertRaisesRegex(KvlarProtocolError, "rule_id"):
            self.evaluate("no-trace")

    def test_a_process_that_dies(self) -> None:
        with self.assertRaises(KvlarServeError) as raised:
            self.evaluate("crash")
        self.assertEqual(raised.exception.returncode, 3)
        self.assertIn("crashing on purpose", str(raised.exception))

    def test_no_answer_in_time(self) -> None:
        started = time.monotonic()
        with self.assertRaises(KvlarTimeoutError):
            self.evaluate("silent", timeout=0.5)
        self.assertLess(time.monotonic() - started, 5)

    def test_every_error_is_a_kvlar_error(self) -> None:
        for mode in ("unknown-decision", "not-json", "wrong-id", "crash", "no-trace"):
            with self.subTest(mode=mode):
                with self.assertRaises(KvlarError):
                    self.evaluate(mode)

