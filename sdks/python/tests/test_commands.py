# pyright: basic
"""validate, test and lint: one CLI command each, read from its --json output."""

from __future__ import annotations

import textwrap

from helpers import BINARY, POLICY, POLICY_TESTS, TempDirTestCase

from kvlar import Kvlar, KvlarInputError, Outcome

DENY_ALL = 'name: deny-all\nversion: "1"\nrules:\n  - id: deny-everything\n    match_on: {}\n    effect: { type: deny, reason: nothing is allowed }\n'

SHADOWED = textwrap.dedent(
    """\
    name: team
    description: The team's tools.
    version: "1"
    rules:
      - id: allow-reads
        match_on: { resources: ["read_*"] }
        effect: { type: allow }
      - id: deny-read-file
        match_on: { resources: [read_file] }
        effect: { type: deny, reason: no reading }
      - id: approve-writes
        match_on: { resources: [wirte_file] }
        effect: { type: require_approval, reason: writes need a human }
    """
)


class ValidateTest(TempDirTestCase):
    def test_a_valid_policy(self) -> None:
        self.write({"policy.yaml": POLICY})
        report = Kvlar(self.path("policy.yaml"), binary=BINARY).validate()
        self.assertTrue(report.valid)
        (policy,) = report.policies
        self.assertEqual((policy.name, policy.version, policy.rules), ("my-policy", "1.0", 3))
        self.assertEqual(report.issues, ())

    def test_an_invalid_policy_is_a_report_with_located_issues(self) -> None:
        self.write({"policy.yaml": POLICY, "broken.yaml": POLICY.replace("resources: [bash]", "resource: [bash]")})
        report = Kvlar([self.path("policy.yaml"), self.path("broken.yaml")], binary=BINARY).validate()
        self.assertFalse(report.valid)
        self.assertEqual([policy.valid for policy in report.policies], [True, False])
        broken = report.policies[1]
        self.assertIsNone(broken.name)
        issue = broken.issues[0]
        self.assertEqual(issue.severity, "error")
        self.assertEqual(issue.line, 11)
        self.assertIsNotNone(issue.column)
        self.assertEqual(issue.path, ("rules", 1, "match_on", "resource"))
        self.assertIn("did you mean", issue.message)


class TestCommandTest(TempDirTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.write(
            {
                "policy.yaml": POLICY,
                "policy.test.yaml": POLICY_TESTS,
                "variants/deny-all.yaml": DENY_ALL,
                "team/team.yaml": "name: team\nversion: \"1\"\nextends: [../policy.yaml]\nrules: []\n",
                "team/team.test.yaml": "policy: team.yaml\ntests:\n  - id: shell\n    action: { resource: bash }\n    expect: allow\n",
            }
        )
        self.kvlar = Kvlar(self.path("policy.yaml"), binary=BINARY)

    def test_one_passing_file(self) -> None:
        report = self.kvlar.test(self.path("policy.test.yaml"))
        self.assertTrue(report.ok)
        self.assertEqual((report.total, report.passed, report.failed), (3, 3, 0))
        self.assertEqual([result.id for result in report.results], ["read-allowed", "bash-denied", "etc-write-needs-approval"])
        self.assertIs(report.results[2].actual_decision, Outcome.REQUIRE_APPROVAL)
        self.assertIsNone(report.files[0].file)

    def test_failing_tests_are_a_report_not_an_error(self) -> None:
        report = self.kvlar.test(self.path("policy.test.yaml"), policy=self.path("variants/deny-all.yaml"))
        self.assertFalse(report.ok)
        self.assertEqual(report.failed, 3)
        first = report.results[0]
        self.assertFalse(first.passed)
        self.assertEqual(first.actual_rule, "deny-everything")
        self.assertIn("expected decision 'allow', got 'deny'", first.failures[0])

    def test_a_directory_runs_every_test_file(self) -> None:
        # Paths in the output are relative to where the CLI runs when they are inside it.
        report = Kvlar("policy.yaml", binary=BINARY, cwd=self.dir).test(".", coverage=True)
        self.assertFalse(report.ok)
        self.assertEqual([file.file for file in report.files], ["policy.test.yaml", "team/team.test.yaml"])
        self.assertEqual([file.policy for file in report.files], ["policy.yaml", "team/team.yaml"])
        self.assertEqual((report.total, report.passed, report.failed), (4, 3, 1))
        assert report.coverage is not None
        self.assertIn("percent", report.coverage)

    def test_an_invalid_test_file_raises_with_its_location(self) -> None:
        self.write({"bad.test.yaml": "policy: policy.yaml\ntests:\n  - id: x\n    expect: allow\n"})
        with self.assertRaises(KvlarInputError) as raised:
            self.kvlar.test(self.path("bad.test.yaml"))
        self.assertTrue(any(d.file and d.file.endswith("bad.test.yaml") for d in raised.exception.diagnostics), raised.exception.stderr)

    def test_a_directory_without_test_files_raises(self) -> None:
        with self.assertRaises(KvlarInputError):
            self.kvlar.test(self.path("variants"))


class LintTest(TempDirTestCase):
    def test_a_clean_policy(self) -> None:
        self.write({"policy.yaml": POLICY, "policy.test.yaml": POLICY_TESTS})
        report = Kvlar(self.path("policy.yaml"), binary=BINARY).lint()
        self.assertTrue(report.ok)
        self.assertEqual((report.errors, report.warnings), (0, 0))

    def test_a_shadowed_rule_and_an_unknown_tool(self) -> None:
        self.write({"team.yaml": SHADOWED})
        report = Kvlar(self.path("team.yaml"), binary=BINARY).lint(tools=["read_file", "write_file"])
        self.assertFalse(report.ok)
        codes = {finding.code: finding for finding in report.findings}
        self.assertEqual(codes["shadowed-rule"].rule_id, "deny-read-file")
        self.assertEqual(codes["shadowed-rule"].other_rule_id, "allow-reads")
        self.assertEqual(codes["shadowed-rule"].severity, "error")
        self.assertIn("write_file", codes["unknown-tool"].message)
        self.assertIn("untested-policy", codes)
        self.assertEqual(report.errors, 1)

    def test_strict_fails_on_warnings(self) -> None:
        self.write({"policy.yaml": POLICY})
        kvlar = Kvlar(self.path("policy.yaml"), binary=BINARY)
        self.assertTrue(kvlar.lint().ok)
        report = kvlar.lint(strict=True)
        self.assertFalse(report.ok)
        self.assertEqual([finding.code for finding in report.findings], ["untested-policy"])
