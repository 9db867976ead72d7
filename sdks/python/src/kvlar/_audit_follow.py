"""``AuditFollower``: an audit log's records as they are written (``kvlar audit tail --follow``).

The CLI does the work of following (polling, rotation, lines still being written); this reads its
``--json`` lines on the caller's thread and owns the process: whoever ends the iteration, by
``close()`` or by the CLI exiting, leaves no process behind.
"""

from __future__ import annotations

import collections
import logging
import os
import signal
import subprocess
import threading
import weakref
from types import TracebackType
from typing import Any, Deque, Dict, Optional, Sequence, Tuple, Type

from ._cli import Completed, cannot_run, child_env, command_failure
from ._errors import KvlarProtocolError
from ._json import parse_record
from ._serve import drain_stderr

_logger = logging.getLogger("kvlar.audit")

_WHAT = "kvlar audit tail --follow"
_READ_SIZE = 1 << 16
_STDERR_TAIL_LINES = 200
#: How long the CLI has to stop after SIGTERM before it is killed.
_STOP_SECONDS = 5.0


class AuditFollower:
    """The records of an audit log as they are written; made by :meth:`Audit.follow`.

    An iterator of the records (each the JSON object stored in the log) that blocks until the
    next one is written, in log order: none is lost or repeated when the log rotates. Close it
    (``with`` does) to stop the ``kvlar audit tail --follow`` process behind it; ``close()`` may
    be called from any thread, and a reader blocked in the iteration then sees it end.

    If the CLI exits on its own, the iteration raises what the other ``Audit`` methods raise for
    its exit status (``KvlarInputError`` for a log it cannot read, ``KvlarUsageError`` for a flag
    it refuses), with its stderr; a line that is not a JSON object is a ``KvlarProtocolError``
    and stops it. One thread at a time may iterate.
    """

    def __init__(self, command: Sequence[str], *, cwd: Optional[str]) -> None:
        self._command: Tuple[str, ...] = tuple(command)
        try:
            self._process = subprocess.Popen(
                list(command),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                bufsize=0,
                cwd=cwd,
                env=child_env(),
                # Its own process group, so that stopping it stops a wrapper's child too (a
                # `kvlar` script that runs node without exec): that child holds the pipe, and
                # would otherwise keep running and keep the reader waiting.
                start_new_session=os.name == "posix",
            )
        except (FileNotFoundError, PermissionError) as error:
            raise cannot_run(command[0], error) from error
        stdout = self._process.stdout
        assert stdout is not None
        self._stdout = stdout
        self._stdout_fd = stdout.fileno()
        # What was read and not yet returned starts at `_offset` in `_buffer`.
        self._buffer = b""
        self._offset = 0
        self._line = 0
        # `_lock` guards `_closed` and `_reading`; the stdout pipe is closed by whoever comes
        # last of close() and the reader, so no read is ever made on a closed descriptor.
        self._lock = threading.Lock()
        self._closed = False
        self._reading = False
        self._stderr_tail: Deque[str] = collections.deque(maxlen=_STDERR_TAIL_LINES)
        self._stderr_thread = threading.Thread(
            target=drain_stderr,
            args=(self._process.stderr, self._stderr_tail, _logger),
            name=f"kvlar-audit-tail-stderr-{self._process.pid}",
            daemon=True,
        )
        self._stderr_thread.start()
        # The last resort for a follower dropped without close(): also runs at interpreter exit.
        self._finalizer = weakref.finalize(self, _stop, self._process)

    @property
    def pid(self) -> int:
        """The process id of the ``kvlar audit tail --follow`` process."""
        return self._process.pid

    @property
    def returncode(self) -> Optional[int]:
        """Its exit status once it has ended, else ``None``.

        After ``close()``: 0, or ``-15`` (SIGTERM) when the CLI was still starting.
        """
        return self._process.poll()

    def __iter__(self) -> AuditFollower:
        return self

    def __next__(self) -> Dict[str, Any]:
        with self._lock:
            if self._closed:
                raise StopIteration
            if self._reading:
                raise RuntimeError("another thread is already iterating this AuditFollower")
            self._reading = True
        try:
            record = self._next_record()
        finally:
            with self._lock:
                self._reading = False
                if self._closed:
                    self._stdout.close()
        if record is None:
            raise StopIteration
        return record

    def close(self) -> None:
        """Stops the CLI: SIGTERM, and SIGKILL if it has not exited 5 s later.

        Idempotent, and safe from any thread: a reader blocked in the iteration sees it end, and
        no record is yielded after it.
        """
        self._close()

    def _close(self) -> bool:
        """close(); false when it was closed already (and may still be stopping)."""
        with self._lock:
            if self._closed:
                return False
            self._closed = True
            if not self._reading:
                # First, so a CLI blocked writing to a full pipe gets EPIPE and exits at once.
                self._stdout.close()
        self._finalizer.detach()
        _stop(self._process)
        self._stderr_thread.join(timeout=2)
        return True

    def __enter__(self) -> AuditFollower:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.close()

    def _next_record(self) -> Optional[Dict[str, Any]]:
        """The next record; ``None`` once closed or stopped."""
        while True:
            line = self._read_line()
            if self._closed:
                return None  # close() was called: nothing more is yielded, whatever was read
            if line is None:
                return self._ended()
            self._line += 1
            if not line.strip():
                continue
            try:
                return parse_record(line.decode("utf-8"), self._line, _WHAT)
            except UnicodeDecodeError:
                self.close()
                raise KvlarProtocolError(f"{_WHAT}: line {self._line} is not UTF-8: {line[:200]!r}") from None
            except KvlarProtocolError:
                self.close()
                raise

    def _read_line(self) -> Optional[bytes]:
        """The next complete line without its newline; ``None`` when stdout ends."""
        while True:
            newline = self._buffer.find(b"\n", self._offset)
            if newline != -1:
                line = self._buffer[self._offset : newline]
                self._offset = newline + 1
                return line
            self._buffer = self._buffer[self._offset :]
            self._offset = 0
            try:
                chunk = os.read(self._stdout_fd, _READ_SIZE)
            except OSError:
                chunk = b""
            if not chunk:
                return None
            self._buffer += chunk

    def _ended(self) -> None:
        """The CLI closed its output without close(): the error its exit status says, if any."""
        if not self._close():
            return None  # close() came first, from another thread
        code = self._process.returncode
        if code is None or code != 0:
            stderr = "\n".join(self._stderr_tail)
            completed = Completed(self._command, -9 if code is None else code, "", stderr)
            raise command_failure(completed, _WHAT)
        if self._buffer.strip():
            raise KvlarProtocolError(f"{_WHAT}: its output ended inside line {self._line + 1}")
        return None


def _stop(process: "subprocess.Popen[bytes]") -> None:
    if process.poll() is None:
        _signal(process, signal.SIGTERM)
        try:
            process.wait(timeout=_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            _signal(process, signal.SIGKILL if os.name == "posix" else signal.SIGTERM)
    try:
        process.wait(timeout=_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        pass


def _signal(process: "subprocess.Popen[bytes]", number: int) -> None:
    try:
        if os.name == "posix":
            os.killpg(process.pid, number)  # the whole group: see start_new_session
        else:
            process.send_signal(number)  # SIGTERM is TerminateProcess on Windows
    except OSError:
        pass  # gone already
