"""Finding the ``kvlar`` binary and running its commands."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple, Type, Union

from ._errors import (
    KvlarCommandError,
    KvlarInputError,
    KvlarNotFoundError,
    KvlarProtocolError,
    KvlarTimeoutError,
    KvlarUsageError,
)
from ._json import parse_json

StrPath = Union[str, "os.PathLike[str]"]
#: A path to the binary, a name looked up on PATH, or a command line (``["node", "bin.js"]``).
BinarySpec = Union[StrPath, Sequence[str]]

_INSTALL_HINT = (
    "install the CLI (npm install -g @kvlar/cli), set KVLAR_BIN to its path, "
    'or pass binary="/path/to/kvlar" (or a command line such as ["node", "/path/to/bin.js"])'
)


def resolve_binary(binary: Optional[BinarySpec]) -> Tuple[str, ...]:
    """The command line that runs ``kvlar``: the argument, else ``$KVLAR_BIN``, else PATH."""
    if binary is None:
        from_env = os.environ.get("KVLAR_BIN")
        if from_env:
            return (_executable(from_env, "KVLAR_BIN"),)
        found = shutil.which("kvlar")
        if found is None:
            raise KvlarNotFoundError(f"kvlar was not found on PATH: {_INSTALL_HINT}")
        return (found,)
    if isinstance(binary, (str, os.PathLike)):
        return (_executable(os.fspath(binary), "binary"),)
    parts = tuple(binary)
    if not parts or not all(isinstance(part, str) for part in parts):
        raise TypeError("binary must be a path, or a non-empty list of strings such as ['node', 'bin.js']")
    return (_executable(parts[0], "binary"),) + parts[1:]


def _executable(name: str, source: str) -> str:
    if name == "":
        raise KvlarNotFoundError(f"{source} is empty: {_INSTALL_HINT}")
    has_directory = os.sep in name or (os.altsep is not None and os.altsep in name)
    if has_directory:
        if not os.path.isfile(name):
            raise KvlarNotFoundError(f"{source} {name!r} does not exist: {_INSTALL_HINT}")
        if not os.access(name, os.X_OK):
            raise KvlarNotFoundError(f"{source} {name!r} is not executable: {_INSTALL_HINT}")
        return os.path.abspath(name)
    found = shutil.which(name)
    if found is None:
        raise KvlarNotFoundError(f"{source} {name!r} was not found on PATH: {_INSTALL_HINT}")
    return found


def child_env() -> Dict[str, str]:
    """The environment for the CLI: plain text on stderr whatever the caller's terminal wants."""
    env = dict(os.environ)
    env["NO_COLOR"] = "1"
    env.pop("FORCE_COLOR", None)
    return env


@dataclass(frozen=True)
class Completed:
    command: Tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


class Cli:
    """Runs ``kvlar`` commands: the binary, where, and how long each may take."""

    def __init__(self, binary: Optional[BinarySpec], *, cwd: Optional[StrPath], timeout: Optional[float]) -> None:
        self.binary = resolve_binary(binary)
        self.cwd: Optional[str] = None if cwd is None else os.fspath(cwd)
        self.timeout = timeout

    def absolute(self, path: StrPath) -> str:
        """``path`` as an absolute path, relative paths taken from ``cwd`` (else the current one)."""
        text = os.fspath(path)
        if not isinstance(text, str) or text == "":
            raise ValueError(f"a path must be a non-empty string, not {path!r}")
        base = self.cwd if self.cwd is not None else os.getcwd()
        return os.path.normpath(os.path.join(base, text))

    def run(self, args: Sequence[str]) -> Completed:
        command = self.binary + tuple(args)
        try:
            process = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=self.cwd,
                env=child_env(),
                timeout=self.timeout,
            )
        except (FileNotFoundError, PermissionError) as error:
            raise cannot_run(command[0], error) from error
        except subprocess.TimeoutExpired:
            raise KvlarTimeoutError(f"{_shown(args)} took longer than {self.timeout} s") from None
        try:
            stdout = process.stdout.decode("utf-8")
        except UnicodeDecodeError as error:
            raise KvlarProtocolError(f"{_shown(args)} printed output that is not UTF-8: {error}") from None
        stderr = process.stderr.decode("utf-8", errors="replace")
        return Completed(command=command, returncode=process.returncode, stdout=stdout, stderr=stderr)

    def json(
        self,
        args: Sequence[str],
        *,
        results: Sequence[int] = (0,),
        input_error: Type[KvlarInputError] = KvlarInputError,
    ) -> Tuple[Any, Completed]:
        """Runs a ``--json`` command: its parsed output, when the exit code is one of ``results``.

        Without output: exit 1 is ``input_error`` (stderr says which file and where), exit 2 a
        usage error; anything else is a KvlarCommandError.
        """
        completed = self.run(args)
        code = completed.returncode
        if code == 2:
            raise KvlarUsageError(
                f"{_shown(args)} refused its command line: {_last_line(completed.stderr)}",
                command=completed.command,
                returncode=code,
                stderr=completed.stderr,
            )
        if completed.stdout.strip() == "":
            if code == 1 and "internal error" not in completed.stderr:
                raise input_error(
                    f"{_shown(args)} failed:\n{completed.stderr.rstrip()}",
                    command=completed.command,
                    returncode=code,
                    stderr=completed.stderr,
                )
            raise KvlarCommandError(
                f"{_shown(args)} exited with status {code} without a result: {_last_line(completed.stderr)}",
                command=completed.command,
                returncode=code,
                stderr=completed.stderr,
            )
        value = parse_json(completed.stdout, f"the output of {_shown(args)}")
        if code not in results:
            raise KvlarCommandError(
                f"{_shown(args)} exited with status {code}: {_last_line(completed.stderr)}",
                command=completed.command,
                returncode=code,
                stderr=completed.stderr,
            )
        return value, completed


def cannot_run(program: str, error: OSError) -> KvlarNotFoundError:
    """The error for a binary that could not be started (``Popen`` raised ``error``)."""
    hint = f": {_INSTALL_HINT}" if isinstance(error, FileNotFoundError) else ""
    return KvlarNotFoundError(f"cannot run {program!r}: {error.strerror}{hint}")


def command_failure(completed: Completed, what: str) -> KvlarCommandError:
    """The error of a failed command: exit 2 is a usage error, 1 an input error, else a command error."""
    code = completed.returncode
    error = {1: KvlarInputError, 2: KvlarUsageError}.get(code, KvlarCommandError)
    stderr = completed.stderr.rstrip()
    if stderr:
        message = f"{what} failed:\n{stderr}"
    else:
        status = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
        message = f"{what} failed: it {status} with nothing on stderr"
    return error(message, command=completed.command, returncode=code, stderr=completed.stderr)


def _shown(args: Sequence[str]) -> str:
    words = [arg for arg in args if not arg.startswith("-")][:2]
    return "kvlar " + " ".join(words)


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(nothing on stderr)"


def flag(name: str, value: object) -> str:
    """``--name=value``: attached, so a value starting with ``-`` is never read as a flag."""
    return f"--{name}={value}"


def string_mapping(value: Mapping[str, Any], what: str) -> Dict[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} must be a mapping (a dict of argument names to values), not {type(value).__name__}")
    result: Dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise TypeError(f"{what} keys must be strings, not {type(key).__name__}")
        result[key] = item
    return result
