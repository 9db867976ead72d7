"""What the CLI answers, as frozen dataclasses, each read strictly from its ``--json`` output."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Dict, Mapping, Optional, Tuple

from ._errors import KvlarProtocolError
from ._json import Fields, PathStep


class Outcome(str, Enum):
    """What a policy decided. Compares equal to its string (``Outcome.DENY == "deny"``)."""

    ALLOW = "allow"
    DENY = "deny"
    REQUIRE_APPROVAL = "require_approval"

    def __str__(self) -> str:
        return self.value


def outcome_of(text: str, where: str) -> Outcome:
    """The Outcome for a decision string; any other string is a protocol error, never an allow."""
    try:
        return Outcome(text)
    except ValueError:
        raise KvlarProtocolError(f"{where}: unknown decision {text!r}") from None


@dataclass(frozen=True)
class RuleTrace:
    """One rule considered by ``explain=True``: whether it matched, and each check."""

    rule_id: str
    policy: str
    matched: bool
    checks: Tuple[str, ...]


@dataclass(frozen=True)
class Decision:
    """The answer for one action: ``kvlar evaluate --json``'s shape.

    A Decision has no truth value (``if decision:`` raises TypeError): ask ``decision.allowed``.
    """

    outcome: Outcome
    #: The rule that decided, or ``_default_deny`` / ``_default_allow``.
    rule_id: str
    #: Why; ``None`` for an allow.
    reason: Optional[str] = None
    #: The policy the rule comes from; ``None`` for ``_default_deny``.
    policy: Optional[str] = None
    #: With ``explain=True``: the rules considered, in order, up to the one that decided.
    trace: Optional[Tuple[RuleTrace, ...]] = None

    @property
    def allowed(self) -> bool:
        return self.outcome is Outcome.ALLOW

    @property
    def denied(self) -> bool:
        return self.outcome is Outcome.DENY

    @property
    def needs_approval(self) -> bool:
        return self.outcome is Outcome.REQUIRE_APPROVAL

    def __bool__(self) -> bool:
        # A dataclass is always truthy: `if kvlar.evaluate(...):` would allow everything.
        raise TypeError("a Decision has no truth value: use decision.allowed (or .denied, .needs_approval)")


_OUTCOMES = {outcome.value: outcome for outcome in Outcome}


def decision_of(answer: Dict[str, Any]) -> Decision:
    """``decision_from`` for the common answer, without its per-field bookkeeping (the hot path)."""
    outcome = _OUTCOMES.get(answer.get("decision"))  # type: ignore[arg-type]
    rule_id = answer.get("rule_id")
    reason = answer.get("reason")
    policy = answer.get("policy")
    if (
        outcome is not None
        and type(rule_id) is str
        and (reason is None or type(reason) is str)
        and (policy is None or type(policy) is str)
        and "trace" not in answer
    ):
        return Decision(outcome, rule_id, reason, policy)
    return decision_from(Fields(answer, "answer"))


def decision_from(fields: Fields) -> Decision:
    trace: Optional[Tuple[RuleTrace, ...]] = None
    if fields.has("trace"):
        trace = tuple(
            RuleTrace(
                rule_id=step.text("rule_id"),
                policy=step.text("policy"),
                matched=step.flag("matched"),
                checks=step.texts("checks"),
            )
            for step in fields.objects("trace")
        )
    return Decision(
        outcome=outcome_of(fields.text("decision"), "decision"),
        rule_id=fields.text("rule_id"),
        reason=fields.opt_text("reason"),
        policy=fields.opt_text("policy"),
        trace=trace,
    )


@dataclass(frozen=True)
class PolicyRef:
    name: str
    version: str
    file: Optional[str]


@dataclass(frozen=True)
class ServeInfo:
    """What a running ``kvlar serve`` decides with (``{"op": "info"}``)."""

    protocol: int
    #: The CLI's version.
    version: str
    #: Every policy loaded (each one given and what it extends), in evaluation order.
    policies: Tuple[PolicyRef, ...]
    #: SHA-256 over the loaded policies: the hash ``kvlar proxy`` writes to the audit log.
    hash: str
    rules: int
    #: How many times ``watch=True`` reloaded the policies.
    reloads: int


def serve_info_from(fields: Fields) -> ServeInfo:
    return ServeInfo(
        protocol=fields.integer("protocol"),
        version=fields.text("version"),
        policies=tuple(
            PolicyRef(name=item.text("name"), version=item.text("version"), file=item.opt_text("file"))
            for item in fields.objects("policies")
        ),
        hash=fields.text("hash"),
        rules=fields.integer("rules"),
        reloads=fields.integer("reloads"),
    )


@dataclass(frozen=True)
class Issue:
    """A problem in a file, as ``--json`` gives it (``line``/``column`` ``None`` when unknown)."""

    code: str
    severity: str
    message: str
    file: Optional[str]
    line: Optional[int]
    column: Optional[int]
    path: Tuple[PathStep, ...]


def issue_from(fields: Fields) -> Issue:
    return Issue(
        code=fields.text("code"),
        severity=fields.text("severity"),
        message=fields.text("message"),
        file=fields.opt_text("file"),
        line=fields.opt_integer("line"),
        column=fields.opt_integer("column"),
        path=fields.path("path"),
    )


@dataclass(frozen=True)
class PolicyValidation:
    file: str
    valid: bool
    name: Optional[str]
    version: Optional[str]
    #: How many rules, with those it extends; ``None`` when invalid.
    rules: Optional[int]
    #: Its problems when invalid, its warnings when valid.
    issues: Tuple[Issue, ...]


@dataclass(frozen=True)
class ValidationReport:
    """``kvlar validate --json`` for each policy."""

    valid: bool
    policies: Tuple[PolicyValidation, ...]

    @property
    def issues(self) -> Tuple[Issue, ...]:
        return tuple(issue for policy in self.policies for issue in policy.issues)


def policy_validation_from(fields: Fields) -> PolicyValidation:
    return PolicyValidation(
        file=fields.text("file"),
        valid=fields.flag("valid"),
        name=fields.opt_text("name"),
        version=fields.opt_text("version"),
        rules=fields.opt_integer("rules"),
        issues=tuple(issue_from(item) for item in fields.objects("issues")),
    )


@dataclass(frozen=True)
class TestCaseResult:
    id: str
    passed: bool
    actual_decision: Outcome
    actual_rule: str
    actual_reason: Optional[str]
    #: Why it failed, one line each (empty when it passed).
    failures: Tuple[str, ...]

    __test__ = False  # not a test class, whatever a test runner thinks of its name


@dataclass(frozen=True)
class TestFileResult:
    #: The test file; ``None`` when one file was run (the CLI's output then does not name it).
    file: Optional[str]
    #: The policy it tested; ``None`` when one file was run.
    policy: Optional[str]
    results: Tuple[TestCaseResult, ...]
    total: int
    passed: int
    failed: int

    __test__ = False


@dataclass(frozen=True)
class TestReport:
    """``kvlar test --json``. Files that could not be run are not in ``files``: see ``ok``."""

    files: Tuple[TestFileResult, ...]
    total: int
    passed: int
    failed: int
    #: The exit code was 0: every test passed and every file could be run.
    ok: bool
    #: ``--coverage``: the CLI's ``coverage`` object as is.
    coverage: Optional[Mapping[str, Any]]
    #: What the CLI printed on stderr (problems of files that could not be run).
    stderr: str

    __test__ = False

    @property
    def results(self) -> Tuple[TestCaseResult, ...]:
        return tuple(result for file in self.files for result in file.results)


def _case_from(fields: Fields) -> TestCaseResult:
    return TestCaseResult(
        id=fields.text("id"),
        passed=fields.flag("passed"),
        actual_decision=outcome_of(fields.text("actual_decision"), "actual_decision"),
        actual_rule=fields.text("actual_rule"),
        actual_reason=fields.opt_text("actual_reason"),
        failures=fields.texts("failures"),
    )


def _file_from(fields: Fields, file: Optional[str], policy: Optional[str]) -> TestFileResult:
    return TestFileResult(
        file=file,
        policy=policy,
        results=tuple(_case_from(item) for item in fields.objects("results")),
        total=fields.integer("total"),
        passed=fields.integer("passed"),
        failed=fields.integer("failed"),
    )


def report_from_tests(fields: Fields, *, ok: bool, stderr: str) -> TestReport:
    # One test file prints the Rust shape ({results, …}); several print {files: […], …}.
    if fields.has("files"):
        files = tuple(
            _file_from(item, item.text("file"), item.text("policy")) for item in fields.objects("files")
        )
    else:
        files = (_file_from(fields, None, None),)
    return TestReport(
        files=files,
        total=fields.integer("total"),
        passed=fields.integer("passed"),
        failed=fields.integer("failed"),
        ok=ok,
        coverage=fields.opt_mapping("coverage"),
        stderr=stderr,
    )



@dataclass(frozen=True)
class LintFinding:
    code: str
    severity: str
    message: str
    rule_id: Optional[str]
    other_rule_id: Optional[str]
    #: For ``allow-hides-deny``: an action the earlier rule takes.
    example: Optional[Dict[str, Any]]
    file: Optional[str]
    line: Optional[int]
    column: Optional[int]
    path: Tuple[PathStep, ...]


@dataclass(frozen=True)
class LintFileReport:
    file: str
    valid: bool
    issues: Tuple[Issue, ...]
    findings: Tuple[LintFinding, ...]


@dataclass(frozen=True)
class LintReport:
    """``kvlar lint --json`` for each policy."""

    files: Tuple[LintFileReport, ...]
    errors: int
    warnings: int
    #: The exit code was 0: no error (with ``strict=True``, no warning either).
    ok: bool

    @property
    def findings(self) -> Tuple[LintFinding, ...]:
        return tuple(finding for file in self.files for finding in file.findings)


def lint_file_from(fields: Fields) -> LintFileReport:
    return LintFileReport(
        file=fields.text("file"),
        valid=fields.flag("valid"),
        issues=tuple(issue_from(item) for item in fields.objects("issues")),
        findings=tuple(
            LintFinding(
                code=item.text("code"),
                severity=item.text("severity"),
                message=item.text("message"),
                rule_id=item.opt_text("ruleId"),
                other_rule_id=item.opt_text("otherRuleId"),
                example=item.opt_mapping("example"),
                file=item.opt_text("file"),
                line=item.opt_integer("line"),
                column=item.opt_integer("column"),
                path=item.path("path"),
            )
            for item in fields.objects("findings")
        ),
    )


@dataclass(frozen=True)
class AuditProblem:
    """A broken link or a warning in an audit log."""

    file: Optional[str]
    line: int
    reason: str
    message: str


@dataclass(frozen=True)
class AuditVerification:
    """``kvlar audit verify --json``."""

    #: The chain is intact (and there was something to check).
    ok: bool
    chains: int
    files: int
    records: int
    warnings: Tuple[AuditProblem, ...]
    #: The first broken link, ``None`` when intact.
    failure: Optional[AuditProblem]


def _problem_from(fields: Fields) -> AuditProblem:
    return AuditProblem(
        file=fields.opt_text("file"),
        line=fields.integer("line"),
        reason=fields.text("reason"),
        message=fields.text("message"),
    )


def audit_verification_from(fields: Fields) -> AuditVerification:
    failure = fields.raw.get("failure")
    return AuditVerification(
        ok=fields.flag("ok"),
        chains=fields.integer("chains"),
        files=fields.integer("files"),
        records=fields.integer("records"),
        warnings=tuple(_problem_from(item) for item in fields.objects("warnings")),
        failure=None if failure is None else _problem_from(Fields(failure, "failure")),
    )


@dataclass(frozen=True)
class NameCount:
    name: str
    count: int


@dataclass(frozen=True)
class AuditOutcomes:
    allowed: int
    denied: int
    pending_approval: int


@dataclass(frozen=True)
class AuditResultStats:
    """The result records (``kvlar proxy --audit-results``): how the forwarded calls ended."""

    #: The server answered.
    ok: int
    #: A JSON-RPC error, an ``isError`` result, or no answer at all.
    error: int
    #: Median and longest ``duration_ms`` over every result; ``None`` when there are none.
    p50_ms: Optional[float]
    max_ms: Optional[float]


@dataclass(frozen=True)
class AuditStats:
    """``kvlar audit stats --json``."""

    file: str
    files: Tuple[str, ...]
    #: Lines that are not audit records.
    skipped: int
    #: Decision records; the result records are counted apart, in ``results``.
    events: int
    outcomes: AuditOutcomes
    #: ISO 8601 UTC times of the first and last records, results included; ``None`` when there are none.
    first: Optional[str]
    last: Optional[str]
    #: Every resource and agent of the decisions, most frequent first.
    resources: Tuple[NameCount, ...]
    agents: Tuple[NameCount, ...]
    #: All zeros and ``None`` when the log has none, or the CLI predates result records.
    results: AuditResultStats


def audit_stats_from(fields: Fields) -> AuditStats:
    outcomes = fields.child("outcomes")

    def counted(key: str) -> Tuple[NameCount, ...]:
        return tuple(NameCount(name=item.text("name"), count=item.integer("count")) for item in fields.objects(key))

    return AuditStats(
        file=fields.text("file"),
        files=fields.texts("files"),
        skipped=fields.integer("skipped"),
        events=fields.integer("events"),
        outcomes=AuditOutcomes(
            allowed=outcomes.integer("allowed"),
            denied=outcomes.integer("denied"),
            pending_approval=outcomes.integer("pending_approval"),
        ),
        first=fields.opt_text("first"),
        last=fields.opt_text("last"),
        resources=counted("resources"),
        agents=counted("agents"),
        results=_result_stats_from(fields),
    )


def _result_stats_from(fields: Fields) -> AuditResultStats:
    # A CLI older than result records prints no "results" (it counts any it reads as decisions).
    if not fields.has("results"):
        return AuditResultStats(ok=0, error=0, p50_ms=None, max_ms=None)
    results = fields.child("results")
    return AuditResultStats(
        ok=results.integer("ok"),
        error=results.integer("error"),
        p50_ms=results.opt_number("p50_ms"),
        max_ms=results.opt_number("max_ms"),
    )
