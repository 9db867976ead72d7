"""``Audit``: ``kvlar audit verify``, ``stats``, ``export`` and ``tail`` on an audit log or directory."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List, Optional, Tuple, Union

from ._audit_follow import AuditFollower
from ._cli import BinarySpec, Cli, StrPath, command_failure, flag
from ._json import Fields, parse_record
from ._models import AuditStats, AuditVerification, audit_stats_from, audit_verification_from

#: An RFC 3339 time (``"2026-03-01T00:00:00Z"``) or a timezone-aware datetime.
Time = Union[str, datetime]


class Audit:
    """The audit log tools. ``Kvlar(...).audit`` is one with the same binary.

    Each takes a log file (its rotated predecessors beside it are read too) or a directory.
    """

    def __init__(
        self,
        binary: Optional[BinarySpec] = None,
        *,
        cwd: Optional[StrPath] = None,
        timeout: Optional[float] = 30.0,
    ) -> None:
        self._cli = Cli(binary, cwd=cwd, timeout=timeout)


    def verify(self, path: StrPath) -> AuditVerification:
        """Checks the hash chain. A broken chain is a result (``ok`` false, ``failure`` says where)."""
        value, _ = self._cli.json(
            ["audit", "verify", self._cli.absolute(path), "--json"], results=(0, 1)
        )
        return audit_verification_from(Fields(value, "kvlar audit verify --json"))

    def stats(
        self,
        path: StrPath,
        *,
        since: Optional[Time] = None,
        until: Optional[Time] = None,
        outcome: Optional[str] = None,
        resource: Optional[str] = None,
        agent: Optional[str] = None,
        server: Optional[str] = None,
        kind: Optional[str] = None,
    ) -> AuditStats:
        """Outcomes, period, resources and agents of a log's decisions; its result records apart.

        The filters are ``export``'s: only the records that pass every one are summarised.
        """
        filters = _filter_flags(since, until, outcome, resource, agent, server, kind)
        value, _ = self._cli.json(
            ["audit", "stats", flag("file", self._cli.absolute(path)), "--json", *filters]
        )
        return audit_stats_from(Fields(value, "kvlar audit stats --json"))

    def export(
        self,
        path: StrPath,
        format: str = "jsonl",
        *,
        output: Optional[StrPath] = None,
        since: Optional[Time] = None,
        until: Optional[Time] = None,
        outcome: Optional[str] = None,
        resource: Optional[str] = None,
        agent: Optional[str] = None,
        server: Optional[str] = None,
        kind: Optional[str] = None,
    ) -> str:
        """The records that pass every filter, as ``jsonl``, ``csv`` or ``cef`` text.

        With ``output``, the CLI writes them to that file (atomically) and this returns ``""``.
        ``resource``, ``agent`` and ``server`` keep records containing the text; ``outcome`` is
        ``allowed``, ``denied`` or ``pending_approval``; ``kind`` is ``decisions`` or ``results``
        (the result records of ``kvlar proxy --audit-results``), both when ``None``.
        """
        filters = _filter_flags(since, until, outcome, resource, agent, server, kind)
        args = ["audit", "export", flag("file", self._cli.absolute(path)), flag("format", format)]
        if output is not None:
            args.append(flag("output", self._cli.absolute(output)))
        args.extend(filters)
        completed = self._cli.run(args)
        if completed.returncode != 0:
            raise command_failure(completed, "kvlar audit export")
        return "" if output is not None else completed.stdout

    def records(
        self,
        path: StrPath,
        *,
        since: Optional[Time] = None,
        until: Optional[Time] = None,
        outcome: Optional[str] = None,
        resource: Optional[str] = None,
        agent: Optional[str] = None,
        server: Optional[str] = None,
        kind: Optional[str] = None,
    ) -> Tuple[Dict[str, Any], ...]:
        """The records that pass every filter, each as the JSON object stored in the log.

        A result record is one with an ``upstream`` object; its ``call_id`` is its decision's ``id``.
        """
        text = self.export(
            path,
            "jsonl",
            since=since,
            until=until,
            outcome=outcome,
            resource=resource,
            agent=agent,
            server=server,
            kind=kind,
        )
        return _records_in(text, "kvlar audit export")

    def tail(
        self,
        path: StrPath,
        n: int = 10,
        *,
        since: Optional[Time] = None,
        until: Optional[Time] = None,
        outcome: Optional[str] = None,
        resource: Optional[str] = None,
        agent: Optional[str] = None,
        server: Optional[str] = None,
        kind: Optional[str] = None,
    ) -> Tuple[Dict[str, Any], ...]:
        """The last ``n`` records that pass every filter, oldest first, as ``records`` gives them.

        The filters are ``export``'s; ``n`` counts the records they keep (``n=20,
        outcome="denied"``: the last 20 denials).
        """
        args = _tail_args(self._cli, path, n, since, until, outcome, resource, agent, server, kind)
        completed = self._cli.run(args)
        if completed.returncode != 0:
            raise command_failure(completed, "kvlar audit tail")
        return _records_in(completed.stdout, "kvlar audit tail")

    def follow(
        self,
        path: StrPath,
        *,
        n: int = 0,
        since: Optional[Time] = None,
        until: Optional[Time] = None,
        outcome: Optional[str] = None,
        resource: Optional[str] = None,
        agent: Optional[str] = None,
        server: Optional[str] = None,
        kind: Optional[str] = None,
    ) -> AuditFollower:
        """The records that pass every filter as they are written: the last ``n`` first (none by
        default), then each new one, in log order and across rotations.

        Starts ``kvlar audit tail --follow`` and returns at once, before the CLI has read the log
        (a record written while it starts counts as one already there: ``n`` includes it); the
        iteration blocks until the next record. Close it, or use it in ``with``, to stop the
        process::

            with audit.follow("audit.jsonl", outcome="denied") as records:
                for record in records:
                    ...

        A log the CLI cannot read, or a filter it refuses, is raised by the iteration.
        """
        args = _tail_args(self._cli, path, n, since, until, outcome, resource, agent, server, kind)
        return AuditFollower(self._cli.binary + (*args, "--follow"), cwd=self._cli.cwd)


# The CLI knows exactly these; checked here so a typo fails before anything runs.
_KINDS = ("decisions", "results")


def audit_with_cli(cli: Cli) -> Audit:
    """An Audit that runs through ``cli`` (``Kvlar.audit``: the same binary, cwd and timeout)."""
    audit = Audit.__new__(Audit)
    audit._cli = cli  # pyright: ignore[reportPrivateUsage]
    return audit


def _records_in(text: str, what: str) -> Tuple[Dict[str, Any], ...]:
    """The records of a JSON-lines output, one object per line (blank lines skipped)."""
    return tuple(
        parse_record(line, number, what) for number, line in enumerate(text.splitlines(), 1) if line.strip()
    )


def _tail_args(
    cli: Cli,
    path: StrPath,
    n: int,
    since: Optional[Time],
    until: Optional[Time],
    outcome: Optional[str],
    resource: Optional[str],
    agent: Optional[str],
    server: Optional[str],
    kind: Optional[str],
) -> List[str]:
    """``kvlar audit tail --json``'s command line, checked before anything runs."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a whole number of records, 0 or more, not {n!r}")
    filters = _filter_flags(since, until, outcome, resource, agent, server, kind)
    return ["audit", "tail", flag("file", cli.absolute(path)), flag("lines", n), "--json", *filters]


def _rfc3339(value: Time, name: str) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} must be a timezone-aware datetime (a naive one names no instant)")
        return value.isoformat()
    if not isinstance(value, str) or value == "":
        raise TypeError(f"{name} must be an RFC 3339 string or a timezone-aware datetime")
    return value


def _filter_flags(
    since: Optional[Time],
    until: Optional[Time],
    outcome: Optional[str],
    resource: Optional[str],
    agent: Optional[str],
    server: Optional[str],
    kind: Optional[str],
) -> List[str]:
    """The flags of the filters ``export``, ``stats`` and ``tail`` share, checked before anything runs."""
    if kind is not None and kind not in _KINDS:
        raise ValueError(f"kind must be 'decisions' or 'results', not {kind!r}")
    flags: List[str] = []
    for name, value in (("since", since), ("until", until)):
        if value is not None:
            flags.append(flag(name, _rfc3339(value, name)))
    for name, text in (("outcome", outcome), ("resource", resource), ("agent", agent), ("server", server)):
        if text is not None:
            if not isinstance(text, str) or text == "":
                raise ValueError(f"{name} must be a non-empty string")
            flags.append(flag(name, text))
    if kind is not None:
        flags.append(flag("kind", kind))
    return flags
