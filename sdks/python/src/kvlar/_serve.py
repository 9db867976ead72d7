"""One ``kvlar serve --stdio`` process and the requests in flight on it.

Requests are written in order under a write lock, and answers come back in the same order. There
is no reader thread: a caller waiting for its answer becomes the reader while nobody else is, and
hands each answer it reads to whoever it belongs to. A single caller so pays for no thread switch
(a round trip is two system calls), and many threads pipeline their requests on one process.

Reads block without a timeout; a watchdog thread that wakes a few times per timeout stops a
process whose reader has waited too long, which ends the read. So timeouts cost the hot path
nothing and work on every platform.

Anything unexpected (the process dies, an answer that is not JSON or is out of order, a timeout)
fails every request in flight with a KvlarError and retires the process; the owner starts a new
one for the next request.
"""

from __future__ import annotations

import collections
import json
import logging
import os
import subprocess
import threading
import time
import weakref
from typing import IO, Any, Deque, Dict, Optional, Sequence, cast

from ._cli import cannot_run, child_env
from ._errors import (
    KvlarError,
    KvlarProtocolError,
    KvlarServeError,
    KvlarTimeoutError,
)

_logger = logging.getLogger("kvlar.serve")

_encode = json.JSONEncoder(allow_nan=False, separators=(",", ":")).encode
_decode = json.JSONDecoder().decode
_READ_SIZE = 1 << 16
_STDERR_TAIL_LINES = 200


class _Pending:
    __slots__ = ("id", "answer", "error", "done")

    def __init__(self, request_id: int) -> None:
        self.id = request_id
        self.answer: Optional[Dict[str, Any]] = None
        self.error: Optional[KvlarError] = None
        self.done = False

    def outcome(self) -> Dict[str, Any]:
        if self.error is not None:
            raise self.error
        assert self.answer is not None
        return self.answer


class ServeProcess:
    def __init__(self, command: Sequence[str], *, cwd: Optional[str], timeout: Optional[float]) -> None:
        try:
            self._process = subprocess.Popen(
                list(command),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                bufsize=0,
                cwd=cwd,
                env=child_env(),
            )
        except (FileNotFoundError, PermissionError) as error:
            raise cannot_run(command[0], error) from error
        stdin = self._process.stdin
        stdout = self._process.stdout
        assert stdin is not None and stdout is not None
        self._stdin_fd = stdin.fileno()
        self._stdout_fd = stdout.fileno()
        self._timeout = timeout
        self._stderr_tail: Deque[str] = collections.deque(maxlen=_STDERR_TAIL_LINES)
        self._stderr_thread = threading.Thread(
            target=drain_stderr,
            args=(self._process.stderr, self._stderr_tail, _logger),
            name=f"kvlar-serve-stderr-{self._process.pid}",
            daemon=True,
        )
        self._stderr_thread.start()

        self._write_lock = threading.Lock()
        # `with self._state` (a C lock) guards the fields below; `_cond` waits on the same lock.
        self._state = threading.Lock()
        self._cond = threading.Condition(self._state)
        self._pending: Deque[_Pending] = collections.deque()
        self._reading = False
        self._failure: Optional[KvlarError] = None
        self._next_id = 0
        # What was read and not yet returned starts at `_offset` in `_buffer` (several answers
        # can come in one read).
        self._buffer = b""
        self._offset = 0
        # Set by the reader around its blocking read; the watchdog compares it with the clock.
        self._read_deadline: Optional[float] = None
        self._timed_out = False
        self._stopped = threading.Event()
        self._finalizer = weakref.finalize(self, _stop, self._process, self._stopped)
        if timeout is not None:
            tick = min(1.0, max(0.02, timeout / 10))
            threading.Thread(
                target=_watchdog,
                args=(weakref.ref(self), self._stopped, tick),
                name=f"kvlar-serve-watchdog-{self._process.pid}",
                daemon=True,
            ).start()

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def failed(self) -> bool:
        return self._failure is not None

    def call(self, request: Dict[str, Any]) -> Dict[str, Any]:
        """Sends one request and returns its answer (``id`` is set here)."""
        body = _encode(request)  # before any lock: a value JSON cannot hold raises here
        deadline = None if self._timeout is None else time.monotonic() + self._timeout
        with self._write_lock:
            if self._failure is not None:
                raise self._failure
            self._next_id += 1
            pending = _Pending(self._next_id)
            line = ('{"id":%d,%s\n' % (pending.id, body[1:])).encode("utf-8")
            with self._state:
                self._pending.append(pending)
            write_error: Optional[str] = None
            try:
                written = os.write(self._stdin_fd, line)
                while written < len(line):
                    written += os.write(self._stdin_fd, line[written:])
            except OSError as error:
                write_error = error.strerror or str(error)
            if write_error is not None:
                self._fail(self._died(f"could not be written to ({write_error})"))
                return pending.outcome()
        return self._wait(pending, deadline)

    def _wait(self, pending: _Pending, deadline: Optional[float]) -> Dict[str, Any]:
        timed_out = False
        with self._state:
            while True:
                if pending.done:
                    return pending.outcome()
                if not self._reading:
                    self._reading = True
                    break
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    timed_out = True
                    break
                self._cond.wait(remaining)
        if timed_out:
            # Another caller is reading and this answer is late: the process is stuck for all.
            self._fail(_timeout_error())
            return pending.outcome()
        try:
            while not pending.done:
                self._dispatch(self._read_line(deadline))
        except KvlarError as error:
            self._fail(error)
        finally:
            with self._state:
                self._reading = False
                if self._pending:
                    # Someone else is waiting: one of them becomes the reader.
                    self._cond.notify_all()
        return pending.outcome()

    def _read_line(self, deadline: Optional[float]) -> bytes:
        buffer = self._buffer
        start = self._offset
        while True:
            newline = buffer.find(b"\n", start)
            if newline != -1:
                self._offset = newline + 1
                return buffer[start:newline]
            # The common case, one whole answer per read, copies nothing.
            buffer = buffer[start:] if start < len(buffer) else b""
            start = 0
            self._buffer, self._offset = buffer, 0
            self._read_deadline = deadline
            try:
                chunk = os.read(self._stdout_fd, _READ_SIZE)
            except OSError as error:
                raise self._died(f"could not be read from ({error.strerror})") from None
            finally:
                self._read_deadline = None
            if not chunk:
                if self._timed_out:
                    raise _timeout_error()
                raise self._died("ended")
            buffer = buffer + chunk if buffer else chunk
            self._buffer = buffer

    def _dispatch(self, line: bytes) -> None:
        try:
            answer: object = _decode(line.decode("utf-8"))
        except ValueError:  # UnicodeDecodeError too
            raise KvlarProtocolError(f"an answer of kvlar serve is not JSON: {line[:200]!r}") from None
        with self._state:
            if not self._pending:
                raise KvlarProtocolError(f"kvlar serve answered a request that was not made: {line[:200]!r}")
            pending = self._pending[0]
            if type(answer) is not dict or cast(Dict[str, Any], answer).get("id") != pending.id:
                raise KvlarProtocolError(
                    f"kvlar serve answered out of order: expected id {pending.id}, got {line[:200]!r}"
                )
            self._pending.popleft()
            pending.answer = answer
            pending.done = True
            if self._pending:
                self._cond.notify_all()

    def _check_deadline(self) -> None:
        """The watchdog's tick: a read waiting past its deadline ends with the process."""
        deadline = self._read_deadline
        if deadline is not None and time.monotonic() > deadline:
            self._timed_out = True
            _terminate(self._process)

    def _fail(self, error: KvlarError) -> None:
        """Fails every request in flight with `error` and stops the process; the first failure wins."""
        with self._state:
            if self._failure is None:
                self._failure = error
            failure = self._failure
            while self._pending:
                pending = self._pending.popleft()
                pending.error = failure
                pending.done = True
            self._cond.notify_all()
        self._stopped.set()
        _terminate(self._process)

    def _died(self, what: str) -> KvlarServeError:
        try:
            returncode: Optional[int] = self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _terminate(self._process)
            returncode = None
        self._stderr_thread.join(timeout=2)
        stderr = "\n".join(self._stderr_tail)
        status = "is still running" if returncode is None else _status(returncode)
        message = f"kvlar serve {what}: the process {status}"
        if stderr.strip():
            message += f"; its stderr ends with:\n{stderr.rstrip()}"
        return KvlarServeError(message, returncode=returncode, stderr=stderr)

    def close(self, timeout: float = 5.0) -> None:
        """Ends the session: stdin is closed, so kvlar serve exits once it has answered."""
        closed = KvlarServeError("this kvlar serve session is closed")
        with self._state:
            if self._failure is None:
                self._failure = closed
        self._stopped.set()
        with self._write_lock:
            try:
                stdin = self._process.stdin
                if stdin is not None:
                    stdin.close()
            except OSError:
                pass
        try:
            self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _terminate(self._process)
        self._fail(closed)
        self._stderr_thread.join(timeout=2)
        stdout = self._process.stdout
        if stdout is not None:
            stdout.close()
        self._finalizer.detach()


def _timeout_error() -> KvlarTimeoutError:
    return KvlarTimeoutError("kvlar serve did not answer in time; the process was stopped")


def _watchdog(process_ref: "weakref.ref[ServeProcess]", stopped: threading.Event, tick: float) -> None:
    # A weak reference: the watchdog must not keep an abandoned session (and its process) alive.
    while not stopped.wait(tick):
        process = process_ref()
        if process is None:
            return
        process._check_deadline()  # pyright: ignore[reportPrivateUsage]
        del process


def drain_stderr(stream: Optional[IO[bytes]], tail: Deque[str], logger: logging.Logger) -> None:
    """Reads stderr to its end, so kvlar never blocks on it; keeps the last lines for errors.

    Each line is logged at INFO on ``logger`` too.
    """
    if stream is None:
        return
    try:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            tail.append(line)
            logger.info("%s", line)
    except (OSError, ValueError):
        pass
    finally:
        try:
            stream.close()
        except OSError:
            pass


def _stop(process: "subprocess.Popen[bytes]", stopped: threading.Event) -> None:
    stopped.set()
    _terminate(process)


def _terminate(process: "subprocess.Popen[bytes]") -> None:
    if process.poll() is not None:
        return
    try:
        process.kill()
        process.wait(timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        pass


def _status(returncode: int) -> str:
    if returncode < 0:
        return f"was killed by signal {-returncode}"
    return f"exited with status {returncode}"
