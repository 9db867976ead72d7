"""The one error hierarchy. Whatever goes wrong ends in one of these, never in a decision."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple


class KvlarError(Exception):
    """Base class of every error the SDK raises."""


class KvlarNotFoundError(KvlarError):
    """The ``kvlar`` binary could not be found or started."""


class KvlarProtocolError(KvlarError):
    """The CLI answered something the SDK does not understand: it is never taken as allow."""


@dataclass(frozen=True)
class Diagnostic:
    """One problem the CLI printed on stderr, as ``FILE:LINE:COLUMN: SEVERITY: MESSAGE``."""

    severity: str
    message: str
    file: Optional[str] = None
    line: Optional[int] = None
    column: Optional[int] = None


_DIAGNOSTIC = re.compile(
    r"^(?P<file>.+?)(?::(?P<line>\d+)(?::(?P<column>\d+))?)?: (?P<severity>error|warning): (?P<message>.*)$"
)


def parse_diagnostics(stderr: str) -> Tuple[Diagnostic, ...]:
    """The located problems among stderr's lines; other lines (summaries, hints) are skipped."""
    found: List[Diagnostic] = []
    for line in stderr.splitlines():
        match = _DIAGNOSTIC.match(line)
        if match is None:
            continue
        found.append(
            Diagnostic(
                severity=match.group("severity"),
                message=match.group("message"),
                file=match.group("file"),
                line=_int_or_none(match.group("line")),
                column=_int_or_none(match.group("column")),
            )
        )
    return tuple(found)


def _int_or_none(text: Optional[str]) -> Optional[int]:
    return None if text is None else int(text)


class KvlarCommandError(KvlarError):
    """A ``kvlar`` command failed without the result its ``--json`` documents."""

    def __init__(self, message: str, *, command: Sequence[str], returncode: Optional[int], stderr: str) -> None:
        super().__init__(message)
        self.command: Tuple[str, ...] = tuple(command)
        self.returncode = returncode
        self.stderr = stderr

    @property
    def diagnostics(self) -> Tuple[Diagnostic, ...]:
        """The located problems (``file:line:column: error: …``) in stderr."""
        return parse_diagnostics(self.stderr)


class KvlarUsageError(KvlarCommandError):
    """The CLI refused the command line (exit 2): an SDK option it does not know, or an old CLI."""


class KvlarInputError(KvlarCommandError):
    """A file the command was given (policy, test file, audit log) is invalid or unreadable (exit 1)."""


class KvlarPolicyError(KvlarInputError):
    """A policy is invalid or unreadable; ``diagnostics`` says where."""


class KvlarServeError(KvlarError):
    """The ``kvlar serve`` process died, closed its output, or could not be written to.

    The call that saw it fails; the next call starts a new process.
    """

    def __init__(self, message: str, *, returncode: Optional[int] = None, stderr: str = "") -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr


class KvlarTimeoutError(KvlarError, TimeoutError):
    """A command, or a ``kvlar serve`` answer, took longer than the timeout.

    A ``kvlar serve`` process that timed out is stopped; the next call starts a new one.
    """


class KvlarRequestError(KvlarError):
    """``kvlar serve`` refused a request (``{"error": {code, message}}``) instead of deciding it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
