# pyright: basic
"""Decisions through kvlar serve and through kvlar evaluate, against the real CLI."""

from __future__ import annotations

import textwrap

from helpers import BINARY, POLICY, TempDirTestCase

from kvlar import Decision, Kvlar, KvlarRequestError, Outcome

TEAM = textwrap.dedent(
    """\
    name: team
    version: "1"
    rules:
      - id: deny-deploy-for-interns
        match_on: { resources: [deploy], agent_ids: ["intern-*"] }
        effect: { type: deny, reason: interns do not deploy }
      - id: allow-deploy
        match_on: { resources: [deploy] }
        effect: { type: allow }
      - id: allow-github-only
        match_on: { resources: [create_issue], servers: [github] }
        effect: { type: allow }
      - id: allow-resource-reads
        match_on: { action_types: [resource_read], resources: ["file://*"] }
        effect: { type: allow }
    """
)


class EvaluateTest(TempDirTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.write({"policy.yaml": POLICY, "team.yaml": TEAM})
        self.kvlar = Kvlar(self.path("policy.yaml"), binary=BINARY)
        self.addCleanup(self.kvlar.close)

    def test_allows_denies_and_asks_for_approval(self) -> None:
        read = self.kvlar.evaluate("read_file", {"path": "/tmp/notes.txt"})
        self.assertEqual(read, Decision(Outcome.ALLOW, "allow-read", None, "my-policy"))
        self.assertTrue(read.allowed)
        self.assertFalse(read.denied or read.needs_approval)

        shell = self.kvlar.evaluate("bash", {"command": "ls"})
        self.assertEqual(shell.outcome, "deny")
        self.assertTrue(shell.denied)
        self.assertEqual((shell.rule_id, shell.reason), ("deny-shell", "shell is not allowed"))

        write = self.kvlar.evaluate("write_file", {"path": "/etc/hosts"})
        self.assertTrue(write.needs_approval)
        self.assertEqual(write.rule_id, "approve-etc-write")

    def test_denies_by_default_what_no_rule_matches(self) -> None:
        decision = self.kvlar.evaluate("write_file", {"path": "/tmp/x"})
        self.assertTrue(decision.denied)
        self.assertEqual(decision.rule_id, "_default_deny")
        self.assertIsNone(decision.policy)

    def test_serve_and_evaluate_once_agree(self) -> None:
        cases = [
            ("read_file", {"path": "/tmp/x"}),
            ("bash", {"command": "rm -rf /"}),
            ("write_file", {"path": "/etc/passwd"}),
            ("write_file", {"path": "/tmp/ok"}),
            ("__proto__", {"constructor": {"prototype": 1}}),
            ("résumé_lire", {"chemin": "/tmp/été"}),
            ("read_file", None),
        ]
        for tool, arguments in cases:
            with self.subTest(tool=tool, arguments=arguments):
                self.assertEqual(self.kvlar.evaluate(tool, arguments), self.kvlar.evaluate_once(tool, arguments))

    def test_explain_lists_the_rules_considered(self) -> None:
        for evaluate in (self.kvlar.evaluate, self.kvlar.evaluate_once):
            decision = evaluate("write_file", {"path": "/tmp/x"}, explain=True)
            assert decision.trace is not None
            self.assertEqual([step.rule_id for step in decision.trace], ["allow-read", "deny-shell", "approve-etc-write"])
            self.assertFalse(any(step.matched for step in decision.trace))
            self.assertIn("parameters.path", decision.trace[2].checks[1])
        self.assertIsNone(self.kvlar.evaluate("bash").trace)

    def test_agent_server_and_action_type_reach_the_policy(self) -> None:
        with Kvlar(self.path("team.yaml"), binary=BINARY, agent_id="intern-bob") as team:
            self.assertTrue(team.evaluate("deploy").denied)
            self.assertTrue(team.evaluate("deploy", agent_id="alice").allowed)
            self.assertTrue(team.evaluate_once("deploy").denied)
            self.assertTrue(team.evaluate_once("deploy", agent_id="alice").allowed)
            self.assertTrue(team.evaluate("create_issue", server="github").allowed)
            self.assertTrue(team.evaluate("create_issue").denied)
            self.assertTrue(team.evaluate_once("create_issue", server="github").allowed)
            self.assertTrue(team.evaluate("file:///etc/hosts", action_type="resource_read").allowed)
            self.assertTrue(team.evaluate("file:///etc/hosts").denied)

    def test_several_policies_are_evaluated_in_order(self) -> None:
        with Kvlar([self.path("team.yaml"), self.path("policy.yaml")], binary=BINARY) as both:
            self.assertEqual(both.evaluate("deploy").rule_id, "allow-deploy")
            self.assertEqual(both.evaluate("bash").rule_id, "deny-shell")
            info = both.info()
            self.assertEqual([policy.name for policy in info.policies], ["team", "my-policy"])
            self.assertEqual(info.rules, 7)
            with self.assertRaises(ValueError):
                both.evaluate_once("deploy")

    def test_a_decision_has_no_truth_value(self) -> None:
        decision = self.kvlar.evaluate("bash")
        with self.assertRaises(TypeError):
            bool(decision)
        with self.assertRaises(TypeError):
            if decision:  # the mistake this guards against: it would allow every call
                pass

    def test_refuses_arguments_it_cannot_send_before_asking(self) -> None:
        with self.assertRaises(TypeError):
            self.kvlar.evaluate("read_file", ["not", "a", "mapping"])  # type: ignore[arg-type]
        with self.assertRaises(TypeError):
            self.kvlar.evaluate("read_file", {1: "not a string key"})  # type: ignore[dict-item]
        with self.assertRaises(ValueError):
            self.kvlar.evaluate("read_file", {"size": float("nan")})
        with self.assertRaises(TypeError):
            self.kvlar.evaluate("read_file", {"file": object()})
        with self.assertRaises(ValueError):
            self.kvlar.evaluate("")
        with self.assertRaises(TypeError):
            self.kvlar.evaluate(None)  # type: ignore[arg-type]
        # The session is still good.
        self.assertTrue(self.kvlar.evaluate("read_file").allowed)

    def test_a_request_serve_refuses_is_an_error_not_a_decision(self) -> None:
        deep: object = "bottom"
        for _ in range(300):
            deep = [deep]
        with self.assertRaises(KvlarRequestError) as raised:
            self.kvlar.evaluate("read_file", {"nested": deep})
        self.assertEqual(raised.exception.code, "invalid_json")
        self.assertIn("deeper", raised.exception.message)
        self.assertTrue(self.kvlar.evaluate("bash").denied)

    def test_info_names_the_policy_and_the_cli(self) -> None:
        info = self.kvlar.start()
        self.assertEqual(info.protocol, 1)
        self.assertRegex(info.version, r"^\d+\.\d+\.\d+")
        self.assertEqual(len(info.policies), 1)
        self.assertEqual(info.policies[0].name, "my-policy")
        self.assertEqual(info.rules, 3)
        self.assertRegex(info.hash, r"^[0-9a-f]{64}$")
        self.assertEqual(info.reloads, 0)

    def test_relative_policy_paths_are_taken_from_cwd(self) -> None:
        with Kvlar("policy.yaml", binary=BINARY, cwd=self.dir) as relative:
            self.assertEqual(relative.policies, (self.path("policy.yaml"),))
            self.assertTrue(relative.evaluate("bash").denied)
