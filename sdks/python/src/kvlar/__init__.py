"""Kvlar for Python: a thin, typed wrapper over the ``kvlar`` CLI's JSON output.

``Kvlar(policy).evaluate(tool, arguments)`` decides a tool call through one long-running
``kvlar serve --stdio`` process; the other methods run one CLI command each and read its
``--json`` output (``Audit.follow`` keeps ``kvlar audit tail --follow`` running until closed).
Anything unexpected raises a :class:`KvlarError`: it never becomes an allow.
"""

from ._audit import Audit, Time
from ._audit_follow import AuditFollower
from ._cli import BinarySpec, resolve_binary
from ._client import SERVE_PROTOCOL, Kvlar, PolicySpec
from ._errors import (
    Diagnostic,
    KvlarCommandError,
    KvlarError,
    KvlarInputError,
    KvlarNotFoundError,
    KvlarPolicyError,
    KvlarProtocolError,
    KvlarRequestError,
    KvlarServeError,
    KvlarTimeoutError,
    KvlarUsageError,
)
from ._models import (
    AuditOutcomes,
    AuditProblem,
    AuditResultStats,
    AuditStats,
    AuditVerification,
    Decision,
    Issue,
    LintFileReport,
    LintFinding,
    LintReport,
    NameCount,
    Outcome,
    PolicyRef,
    PolicyValidation,
    RuleTrace,
    ServeInfo,
    TestCaseResult,
    TestFileResult,
    TestReport,
    ValidationReport,
)

__version__ = "0.1.0"

__all__ = [
    "SERVE_PROTOCOL",
    "Audit",
    "AuditFollower",
    "AuditOutcomes",
    "AuditProblem",
    "AuditResultStats",
    "AuditStats",
    "AuditVerification",
    "BinarySpec",
    "Decision",
    "Diagnostic",
    "Issue",
    "Kvlar",
    "KvlarCommandError",
    "KvlarError",
    "KvlarInputError",
    "KvlarNotFoundError",
    "KvlarPolicyError",
    "KvlarProtocolError",
    "KvlarRequestError",
    "KvlarServeError",
    "KvlarTimeoutError",
    "KvlarUsageError",
    "LintFileReport",
    "LintFinding",
    "LintReport",
    "NameCount",
    "Outcome",
    "PolicyRef",
    "PolicySpec",
    "PolicyValidation",
    "RuleTrace",
    "ServeInfo",
    "TestCaseResult",
    "TestFileResult",
    "TestReport",
    "Time",
    "ValidationReport",
    "__version__",
    "resolve_binary",
]
