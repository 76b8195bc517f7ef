"""What the test servers share: a server as a child process on loopback, started, waited for and stopped."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from sandbox.process import terminate

HOST = "127.0.0.1"
START_ATTEMPTS = 5


def free_port() -> int:
    """A port free now; another process may take it before the server binds it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class ChildServer:
    """A server in a child process, its log at ``log_path``, listening on ``port``.

    A server that cannot listen on port 0 and report the port gets a free port
    picked first; a start that loses the race for it to another process retries
    on another port. :meth:`restart` keeps the port.
    """

    #: How messages name the server.
    name = "server"
    start_timeout = 20.0
    #: Whether it listens on port 0 and :meth:`_ready` learns the port it took.
    listens_on_port_zero = False

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    def _launch(self) -> subprocess.Popen[bytes]:
        """Starts the server's process on ``port``."""
        raise NotImplementedError

    def _ready(self) -> bool:
        """Whether the server answers."""
        raise NotImplementedError

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
                return
        raise RuntimeError("%s did not start; log:\n%s" % (self.name, self.read_log()[-4000:]))

    def _start_process(self) -> bool:
        """Whether the process started answers; False when it exited first (its port taken, say)."""
        self._process = self._launch()
        try:
            deadline = time.monotonic() + self.start_timeout
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    self._process = None
                    return False
                if self._ready():
                    return True
                time.sleep(0.05)
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
        if process is not None:
            terminate(process, self.name)

    def restart(self) -> None:
        self.stop()
        self.start()

    def read_log(self) -> str:
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
