"""``Kvlar``: a policy (or several) and the ``kvlar`` binary that decides with it."""

from __future__ import annotations

import json
import os
import tempfile
import threading
from types import TracebackType
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Type, Union, cast

from ._audit import Audit, audit_with_cli
from ._cli import BinarySpec, Cli, StrPath, flag, string_mapping
from ._errors import (
    KvlarInputError,
    KvlarPolicyError,
    KvlarProtocolError,
    KvlarRequestError,
    KvlarServeError,
    KvlarUsageError,
)
from ._json import Fields
from ._models import (
    Decision,
    LintFileReport,
    LintReport,
    PolicyValidation,
    ServeInfo,
    TestReport,
    ValidationReport,
    decision_from,
    decision_of,
    lint_file_from,
    policy_validation_from,
    report_from_tests,
    serve_info_from,
)
from ._serve import ServeProcess

#: The ``kvlar serve`` protocol this SDK speaks.
SERVE_PROTOCOL = 1

#: One policy file, or several (evaluated in order, as ``kvlar proxy -p A -p B`` does).
PolicySpec = Union[StrPath, Sequence[StrPath]]


class Kvlar:
    """Decides tool calls with a policy through the ``kvlar`` CLI.

    ``evaluate`` keeps one ``kvlar serve --stdio`` process open (started on first use, restarted
    if it died) and is safe to call from many threads; ``close()`` or a ``with`` block ends it.
    Nothing unexpected ever becomes an allow: it raises a :class:`KvlarError`.

    :param policy: a policy file, or a list of them (evaluated in order).
    :param binary: the ``kvlar`` binary: a path, a name on PATH, or a command line such as
        ``["node", "/path/to/bin.js"]``. Default: ``$KVLAR_BIN``, else ``kvlar`` on PATH.
    :param agent_id: the agent id of every call that does not give one (the CLI's default is
        ``cli-test``, as for ``kvlar evaluate``).
    :param cwd: where relative paths are taken from and the CLI runs; default the current one.
    :param timeout: seconds a command, or one ``evaluate``, may take; ``None`` waits forever.
    :param watch: reload the policies when they change (``kvlar serve --watch``); a bad edit
        keeps the last good policy.
    """

    def __init__(
        self,
        policy: PolicySpec,
        *,
        binary: Optional[BinarySpec] = None,
        agent_id: Optional[str] = None,
        cwd: Optional[StrPath] = None,
        timeout: Optional[float] = 30.0,
        watch: bool = False,
    ) -> None:
        self._cli = Cli(binary, cwd=cwd, timeout=timeout)
        if isinstance(policy, (str, os.PathLike)):
            policies: Sequence[StrPath] = [policy]
        else:
            policies = list(policy)
        if not policies:
            raise ValueError("give at least one policy file")
        self._policies = tuple(self._cli.absolute(path) for path in policies)
        if agent_id is not None:
            _check_name(agent_id, "agent_id")
        self._agent_id = agent_id
        self._watch = watch
        self._lock = threading.Lock()
        self._process: Optional[ServeProcess] = None
        self._info: Optional[ServeInfo] = None
        self._closed = False
        #: The audit tools, with the same binary.
        self.audit: Audit = audit_with_cli(self._cli)

    @property
    def policies(self) -> Tuple[str, ...]:
        """The policy files, as absolute paths."""
        return self._policies

    @property
    def binary(self) -> Tuple[str, ...]:
        """The command line that runs ``kvlar``."""
        return self._cli.binary

    @property
    def serve_pid(self) -> Optional[int]:
        """The process id of the running ``kvlar serve``, if one is running."""
        process = self._process
        return None if process is None or process.failed else process.pid

    # -- serve mode -------------------------------------------------------------------------

    def start(self) -> ServeInfo:
        """Starts ``kvlar serve`` now rather than on the first ``evaluate``; fails fast on a bad policy."""
        self._serve()
        return self.info()

    def info(self) -> ServeInfo:
        """What the running ``kvlar serve`` decides with (asked afresh: ``reloads`` moves with ``watch``)."""
        answer = self._serve().call({"op": "info"})
        return serve_info_from(_answer_fields(answer))

    def evaluate(
        self,
        tool: str,
        arguments: Optional[Mapping[str, Any]] = None,
        *,
        agent_id: Optional[str] = None,
        server: Optional[str] = None,
        action_type: str = "tool_call",
        explain: bool = False,
    ) -> Decision:
        """The policy's decision for calling ``tool`` with ``arguments``, through ``kvlar serve``.

        :raises KvlarPolicyError: the policy is invalid (the process could not start).
        :raises KvlarServeError: the process died; the next call starts a new one.
        :raises KvlarRequestError: kvlar serve refused the request.
        """
        request = self._request(tool, arguments, agent_id, server, action_type, explain)
        answer = self._serve().call(request)
        if "error" in answer:
            _answer_fields(answer)
        return decision_of(answer)

    def evaluate_once(
        self,
        tool: str,
        arguments: Optional[Mapping[str, Any]] = None,
        *,
        agent_id: Optional[str] = None,
        server: Optional[str] = None,
        action_type: str = "tool_call",
        explain: bool = False,
    ) -> Decision:
        """As ``evaluate``, but with a new ``kvlar evaluate --json`` process (one policy only)."""
        if len(self._policies) != 1:
            raise ValueError(
                f"evaluate_once runs kvlar evaluate, which takes one policy; this Kvlar has {len(self._policies)}"
            )
        request = self._request(tool, arguments, agent_id, server, action_type, explain)
        args = [
            "evaluate",
            flag("policy", self._policies[0]),
            flag("resource", request["tool"]),
            flag("action-type", action_type),
            "--json",
        ]
        if "arguments" in request:
            args.append(flag("args", json.dumps(request["arguments"], allow_nan=False)))
        if "agent_id" in request:
            args.append(flag("agent-id", request["agent_id"]))
        if "server" in request:
            args.append(flag("server", request["server"]))
        if explain:
            args.append("--explain")
        value, _ = self._cli.json(args, input_error=KvlarPolicyError)
        return decision_from(Fields(value, "kvlar evaluate --json"))

    def _request(
        self,
        tool: str,
        arguments: Optional[Mapping[str, Any]],
        agent_id: Optional[str],
        server: Optional[str],
        action_type: str,
        explain: bool,
    ) -> Dict[str, Any]:
        if type(tool) is not str or tool == "":
            _check_name(tool, "tool")
        request: Dict[str, Any] = {"tool": tool}
        if arguments is not None:
            # A plain dict with string keys goes as is (it is encoded before evaluate returns).
            plain = _plain_dict(arguments)
            request["arguments"] = plain if plain is not None else string_mapping(arguments, "arguments")
        if action_type != "tool_call":
            _check_name(action_type, "action_type")
            request["action_type"] = action_type
        agent = agent_id if agent_id is not None else self._agent_id
        if agent is not None:
            _check_name(agent, "agent_id")
            request["agent_id"] = agent
        if server is not None:
            _check_name(server, "server")
            request["server"] = server
        if not isinstance(explain, bool):
            raise TypeError("explain must be True or False")
        if explain:
            request["explain"] = True
        return request

    def _serve(self) -> ServeProcess:
        process = self._process
        if process is not None and not process.failed:
            return process  # the hot path: no lock (a process that fails now fails the call)
        with self._lock:
            if self._closed:
                raise KvlarServeError("this Kvlar is closed")
            process = self._process
            if process is not None and not process.failed:
                return process
            if process is not None:
                process.close(timeout=1)
                self._process = None
            command = list(self._cli.binary) + ["serve", "--stdio"]
            command += [flag("policy", path) for path in self._policies]
            if self._watch:
                command.append("--watch")
            process = ServeProcess(command, cwd=self._cli.cwd, timeout=self._cli.timeout)
            try:
                self._info = self._handshake(process, command)
            except BaseException:
                process.close(timeout=1)
                raise
            self._process = process
            return process

    def _handshake(self, process: ServeProcess, command: List[str]) -> ServeInfo:
        try:
            answer = process.call({"op": "info"})
        except KvlarServeError as error:
            if error.returncode == 1:
                raise KvlarPolicyError(
                    f"kvlar serve could not load its policies:\n{error.stderr.rstrip()}",
                    command=command,
                    returncode=1,
                    stderr=error.stderr,
                ) from None
            if error.returncode == 2:
                raise KvlarUsageError(
                    "kvlar serve refused its command line (a CLI older than this SDK has no "
                    f"`kvlar serve`):\n{error.stderr.rstrip()}",
                    command=command,
                    returncode=2,
                    stderr=error.stderr,
                ) from None
            raise
        info = serve_info_from(_answer_fields(answer))
        if info.protocol != SERVE_PROTOCOL:
            raise KvlarProtocolError(
                f"kvlar serve {info.version} speaks protocol {info.protocol}; this SDK speaks {SERVE_PROTOCOL}"
            )
        return info

    def close(self) -> None:
        """Ends the ``kvlar serve`` process, if one runs. Later ``evaluate`` calls raise."""
        with self._lock:
            self._closed = True
            process, self._process = self._process, None
        if process is not None:
            process.close()

    def __enter__(self) -> Kvlar:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.close()

    # -- one process per command --------------------------------------------------------------

    def validate(self) -> ValidationReport:
        """``kvlar validate --json`` for each policy. An invalid policy is a report, not an error."""
        policies: List[PolicyValidation] = []
        for path in self._policies:
            value, _ = self._cli.json(["validate", flag("policy", path), "--json"], results=(0, 1))
            report = Fields(value, "kvlar validate --json")
            policies.extend(policy_validation_from(item) for item in report.objects("policies"))
        return ValidationReport(valid=all(policy.valid for policy in policies), policies=tuple(policies))

    def test(
        self,
        path: Union[StrPath, Sequence[StrPath]],
        *,
        policy: Optional[StrPath] = None,
        coverage: bool = False,
        coverage_min: Optional[float] = None,
    ) -> TestReport:
        """Runs test files (``*.test.yaml``), or every one under a directory: ``kvlar test --json``.

        Each test file names the policy it tests; ``policy`` tests that one instead. Failing tests
        are a report (``ok`` false), not an error.

        :raises KvlarInputError: the one test file given, or its policy, is invalid.
        """
        paths = [path] if isinstance(path, (str, os.PathLike)) else list(path)
        if not paths:
            raise ValueError("give at least one test file or directory")
        args = ["test", "--json"] + [flag("file", self._cli.absolute(item)) for item in paths]
        if policy is not None:
            args.append(flag("policy", self._cli.absolute(policy)))
        if coverage:
            args.append("--coverage")
        if coverage_min is not None:
            args.append(flag("coverage-min", coverage_min))
        value, completed = self._cli.json(args, results=(0, 1), input_error=KvlarInputError)
        return report_from_tests(
            Fields(value, "kvlar test --json"), ok=completed.returncode == 0, stderr=completed.stderr
        )

    def lint(self, *, tools: Optional[Union[StrPath, Sequence[str]]] = None, strict: bool = False) -> LintReport:
        """``kvlar lint --json`` for each policy.

        :param tools: the MCP server's tools, to find rules naming none: a JSON file
            (``kvlar lint --tools``), or the tool names themselves.
        :param strict: warnings fail too (``ok`` false).
        """
        with tempfile.TemporaryDirectory(prefix="kvlar-lint-") as scratch:
            tools_file: Optional[str] = None
            if isinstance(tools, (str, os.PathLike)):
                tools_file = self._cli.absolute(tools)
            elif tools is not None:
                names = list(tools)
                if not all(isinstance(name, str) for name in names):
                    raise TypeError("tools must be a path, or a list of tool names")
                tools_file = os.path.join(scratch, "tools.json")
                with open(tools_file, "w", encoding="utf-8") as file:
                    json.dump(names, file)
            files: List[LintFileReport] = []
            errors = warnings = 0
            ok = True
            for path in self._policies:
                args = ["lint", flag("policy", path), "--json"]
                if tools_file is not None:
                    args.append(flag("tools", tools_file))
                if strict:
                    args.append("--strict")
                value, completed = self._cli.json(args, results=(0, 1))
                report = Fields(value, "kvlar lint --json")
                files.extend(lint_file_from(item) for item in report.objects("files"))
                errors += report.integer("errors")
                warnings += report.integer("warnings")
                ok = ok and completed.returncode == 0
        return LintReport(files=tuple(files), errors=errors, warnings=warnings, ok=ok)

    def proxy_command(
        self,
        server_command: Sequence[str],
        *,
        audit: Optional[StrPath] = None,
        audit_results: bool = False,
        audit_sync: Optional[str] = None,
        server_name: Optional[str] = None,
        agent_id: Optional[str] = None,
        watch: bool = False,
        mode: Optional[str] = None,
        strict: bool = False,
        admin: Optional[str] = None,
        approval_webhook: Optional[str] = None,
        approval_timeout: Optional[int] = None,
        extra_args: Sequence[str] = (),
    ) -> List[str]:
        """The command line that runs ``server_command`` behind ``kvlar proxy --stdio``.

        Give it to an MCP client as the server's command; paths are made absolute, so it works
        from any directory. Nothing is started here.

        :param audit: append the hash-chained audit log here.
        :param audit_results: also record what each forwarded call did (``ok``/``error`` and its
            duration), in a second record linked by ``call_id``; needs ``audit``.
        :param audit_sync: ``"background"`` (default: each record in the OS before its call goes
            on, flushed to disk behind) or ``"always"`` (on disk first); needs ``audit``.
        :param server_name: the server's name, for ``match_on.servers`` and the audit.
        :param agent_id: pin the agent id (default: the client's ``clientInfo.name``).
        :param mode: ``"enforce"`` (default) or ``"audit"`` (decide and record, forward all).
        :param strict: decide every kind of request, not only those the policy names.
        :param admin: serve ``/health``, ``/metrics`` and approvals on this loopback ``host:port``.
        :param extra_args: more ``kvlar proxy`` flags, placed before ``--``.
        """
        if isinstance(server_command, (str, bytes)) or not server_command:
            raise TypeError('server_command must be a non-empty list, e.g. ["npx", "-y", "@modelcontextprotocol/server-filesystem", "/srv"]')
        command = [str(part) for part in server_command]
        if mode is not None and mode not in ("enforce", "audit"):
            raise ValueError(f"mode must be 'enforce' or 'audit', not {mode!r}")
        if audit_sync is not None and audit_sync not in ("background", "always"):
            raise ValueError(f"audit_sync must be 'background' or 'always', not {audit_sync!r}")
        if audit is None and (audit_results or audit_sync is not None):
            raise ValueError("audit_results and audit_sync need audit (the log file)")
        args = list(self._cli.binary) + ["proxy", "--stdio"]
        args += [flag("policy", path) for path in self._policies]
        if audit is not None:
            args.append(flag("audit", self._cli.absolute(audit)))
        if audit_sync is not None:
            args.append(flag("audit-sync", audit_sync))
        if audit_results:
            args.append("--audit-results")
        for name, value in (
            ("server-name", server_name),
            ("agent-id", agent_id if agent_id is not None else self._agent_id),
            ("mode", mode),
            ("admin", admin),
            ("approval-webhook", approval_webhook),
        ):
            if value is not None:
                _check_name(value, name)
                args.append(flag(name, value))
        if approval_timeout is not None:
            args.append(flag("approval-timeout", int(approval_timeout)))
        if watch:
            args.append("--watch")
        if strict:
            args.append("--strict")
        args += list(extra_args)
        return args + ["--"] + command


def _answer_fields(answer: Dict[str, Any]) -> Fields:
    """An answer of kvlar serve; an ``error`` answer raises, whatever else it holds."""
    error = answer.get("error")
    if error is not None:
        details = Fields(error, "error")
        raise KvlarRequestError(details.text("code"), details.text("message"))
    return Fields(answer, "answer")


def _plain_dict(value: object) -> Optional[Dict[str, Any]]:
    """``value`` if it is a dict with string keys, which JSON encodes as it is."""
    if type(value) is not dict:
        return None
    plain = cast(Dict[Any, Any], value)
    return plain if all(type(key) is str for key in plain) else None


def _check_name(value: object, what: str) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string, not {type(value).__name__}")
    if value == "":
        raise ValueError(f"{what} must not be empty")

