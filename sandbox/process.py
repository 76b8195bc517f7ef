"""Servers as child processes on loopback: the sandbox, and the test servers built on :class:`ChildServer`.

One way to start a server (a free port, retried when another process takes
it first), to wait until it answers and to stop it (SIGTERM, then a kill),
for the sandbox (:class:`SandboxProcess`, used by tests, benchmarks and
``make demo``) and the tests' Redis, MongoDB and Scrapyd servers.
"""

from __future__ import annotations

import json
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlencode, urlsplit

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
TOKEN_ENV = "XHS_SANDBOX_TOKEN"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
START_ATTEMPTS = 5
READY_POLL_INTERVAL = 0.05
STOP_TIMEOUT = 10.0
CONTROL_TIMEOUT = 10.0


def free_port() -> int:
    """A port free now; another process may take it before the server binds it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def terminate(process: subprocess.Popen[bytes], name: str) -> None:
    """Ends a child *process*: SIGTERM, so that it closes cleanly; a kill if it hangs."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        logger.warning("%s did not stop on SIGTERM; killing it", name)
        process.kill()
        process.wait()


class ChildServer:
    """A server in a child process, its log at ``log_path``, listening on ``port``.

    A server that cannot listen on port 0 and report the port gets a free port
    picked first; a start that loses the race for it to another process retries
    on another port. :meth:`restart` keeps the port. Without a ``log_path`` the
    server logs to a temporary file, removed when it stops without an error
    (kept after a failure, to be read post mortem).
    """

    #: How messages name the server.
    name = "server"
    start_timeout = 20.0
    #: Whether it listens on port 0 and :meth:`_ready` learns the port it took.
    listens_on_port_zero = False

    def __init__(self, log_path: Path | None = None) -> None:
        self._log_path = log_path
        self._temporary_log = log_path is None
        self.port = 0
        #: The exit status of the last process stopped.
        self.returncode: int | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        """Where the server logs: the path given, else a temporary file made when first needed."""
        if self._log_path is None:
            log_fd, name = tempfile.mkstemp(prefix="xhs-%s-" % self.name, suffix=".log")
            os.close(log_fd)
            self._log_path = Path(name)
        return self._log_path

    def _launch(self) -> subprocess.Popen[bytes]:
        """Starts the server's process on ``port``."""
        raise NotImplementedError

    def _ready(self) -> bool:
        """Whether the server answers."""
        raise NotImplementedError

    def _pause(self) -> None:
        """Waits before the next look at whether the server answers."""
        time.sleep(READY_POLL_INTERVAL)

    def start(self) -> None:
        if self._process is not None:
            raise RuntimeError("%s already running" % self.name)
        # Everything the server writes lies beside its log.
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        fixed_port = bool(self.port) or self.listens_on_port_zero
        for _ in range(1 if fixed_port else START_ATTEMPTS):
            if not fixed_port:
                self.port = free_port()
            if self._start_process():
                logger.info("%s started on port %d (log: %s)", self.name, self.port, self.log_path)
                return
        raise RuntimeError("%s did not start; log:\n%s" % (self.name, self.read_log()[-4000:]))

    def _start_process(self) -> bool:
        """Whether the process started answers; False when it exited first (its port taken, say)."""
        self._process = self._launch()
        try:
            deadline = time.monotonic() + self.start_timeout
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    self.stop()
                    return False
                if self._ready():
                    return True
                self._pause()
        except BaseException:
            self.stop()
            raise
        self.stop()
        raise TimeoutError(
            "%s not ready within %.0f s; log:\n%s" % (self.name, self.start_timeout, self.read_log()[-4000:])
        )

    def stop(self) -> None:
        """SIGTERM, so that the server closes as it does in production; a kill if it hangs."""
        process, self._process = self._process, None
        if process is None:
            return
        terminate(process, self.name)
        if process.stdout is not None:
            process.stdout.close()
        self.returncode = process.returncode

    def restart(self) -> None:
        self.stop()
        self.start()

    def read_log(self) -> str:
        if self._log_path is None:
            return ""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
        if exc_type is None and self._temporary_log and self._log_path is not None:
            self._log_path.unlink(missing_ok=True)


class SandboxProcess(ChildServer):
    """``python -m sandbox`` as a child process, from this checkout.

    It listens on port 0 and prints its URL as its first line. The token
    travels in the environment, never on the command line, because command
    lines are visible to every user through ``ps``.
    """

    name = "sandbox"
    listens_on_port_zero = True

    def __init__(self, *args: str, token: str = "sandbox-token", python: str = sys.executable) -> None:
        super().__init__()
        self.args = args
        self.token = token
        self.python = python
        self.url = ""
        self._printed = b""

    def _launch(self) -> subprocess.Popen[bytes]:
        self.port, self.url, self._printed = 0, "", b""
        with open(self.log_path, "ab") as log_file:
            return subprocess.Popen(
                [self.python, "-m", "sandbox", "--port", "0", *self.args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log_file,
                cwd=PROJECT_ROOT,
                env=self._child_environment(),
            )

    def _child_environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env[TOKEN_ENV] = self.token
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
        return env

    def _ready(self) -> bool:
        """Whether it printed its URL (read without waiting)."""
        assert self._process is not None and self._process.stdout is not None
        stream = self._process.stdout
        while b"\n" not in self._printed and select.select([stream], [], [], 0)[0]:
            chunk = os.read(stream.fileno(), 4096)
            if not chunk:  # it is exiting: the next poll() says so
                return False
            self._printed += chunk
        if b"\n" not in self._printed:
            return False
        self.url = self._printed.split(b"\n", 1)[0].decode("ascii").strip()
        self.port = urlsplit(self.url).port or 0
        return True

    def _pause(self) -> None:
        # Wakes as soon as the sandbox prints.
        assert self._process is not None and self._process.stdout is not None
        select.select([self._process.stdout], [], [], READY_POLL_INTERVAL)

    def stats(self) -> dict[str, Any]:
        return self._control("GET", "stats")

    def reset(self) -> None:
        self._control("POST", "reset")

    def configure(self, **config: Any) -> dict[str, Any]:
        return self._control("POST", "config", config)

    def grow(self, user_id: str, count: int = 1) -> list[str]:
        """Creator *user_id* publishes *count* notes; their ids, newest first."""
        added: list[str] = self._control("POST", "grow", {"userId": user_id, "count": count})["added"]
        return added

    def discovery(self, kind: str, value: str = "", **options: str) -> dict[str, Any]:
        """The free ground truth of a discovery list (``GET /__sandbox__/discovery``)."""
        return self._control("GET", "discovery?" + urlencode({"kind": kind, "value": value, **options}))

    def comments(self, note_id: str, sort: str = "latest") -> dict[str, Any]:
        """The free ground truth of a note's comments and replies (``GET /__sandbox__/comments``)."""
        return self._control("GET", "comments?" + urlencode({"noteId": note_id, "sort": sort}))

    def grow_comments(self, note_id: str, count: int = 1) -> list[str]:
        """Note *note_id* gains *count* comments; their ids, newest first."""
        added: list[str] = self._control("POST", "grow-comments", {"noteId": note_id, "count": count})["added"]
        return added

    def _control(self, method: str, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        if not self.url:
            raise RuntimeError("sandbox not started")
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(
            "%s/__sandbox__/%s" % (self.url, action),
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=CONTROL_TIMEOUT) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            with error:
                detail = error.read().decode("utf-8", "replace")
            raise ValueError("sandbox refused %s %s: %s" % (method, action, detail)) from None
