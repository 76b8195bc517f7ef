"""Start and drive a sandbox in a child process (for tests and benchmarks)."""

from __future__ import annotations

import json
import logging
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

logger = logging.getLogger(__name__)

TOKEN_ENV = "XHS_SANDBOX_TOKEN"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
CONTROL_TIMEOUT = 10.0


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


class SandboxProcess:
    """``python -m sandbox`` as a child process.

    The token travels in the environment, never on the command line, because
    command lines are visible to every user through ``ps``.
    """

    def __init__(self, *args: str, token: str = "sandbox-token", python: str = sys.executable) -> None:
        self.args = args
        self.token = token
        self.python = python
        self.url = ""
        self.log_path = ""
        self.returncode: int | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        if self._process is not None:
            raise RuntimeError("sandbox already started")
        log_fd, self.log_path = tempfile.mkstemp(prefix="xhs-sandbox-", suffix=".log")
        with os.fdopen(log_fd, "wb") as log_file:
            self._process = subprocess.Popen(
                [self.python, "-m", "sandbox", "--port", "0", *self.args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log_file,
                cwd=PROJECT_ROOT,
                env=self._child_environment(),
            )
        try:
            self.url = self._read_url_line(START_TIMEOUT)
        except Exception:
            self.stop()
            raise
        logger.info("sandbox started at %s (log: %s)", self.url, self.log_path)
        return self.url

    def _child_environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env[TOKEN_ENV] = self.token
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
        return env

    def _read_url_line(self, timeout: float) -> str:
        assert self._process is not None and self._process.stdout is not None
        stream = self._process.stdout
        deadline = time.monotonic() + timeout
        received = b""
        while b"\n" not in received:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("sandbox printed no URL within %.0f s; see %s" % (timeout, self.log_path))
            readable, _, _ = select.select([stream], [], [], remaining)
            if not readable:
                continue
            chunk = os.read(stream.fileno(), 4096)
            if not chunk:
                raise RuntimeError("sandbox exited before printing its URL; log:\n%s" % self.read_log()[-4000:])
            received += chunk
        return received.split(b"\n", 1)[0].decode("ascii").strip()

    def stop(self) -> None:
        process = self._process
        if process is None:
            return
        terminate(process, "sandbox")
        if process.stdout is not None:
            process.stdout.close()
        self.returncode = process.returncode
        self._process = None

    def read_log(self) -> str:
        if not self.log_path:
            return ""
        return Path(self.log_path).read_text(encoding="utf-8", errors="replace")

    def stats(self) -> dict[str, Any]:
        return self._control("GET", "stats")

    def reset(self) -> None:
        self._control("POST", "reset")

    def configure(self, **config: Any) -> dict[str, Any]:
        return self._control("POST", "config", config)

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

    def __enter__(self) -> SandboxProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
        # The log is kept after a failure so it can be read post mortem.
        if exc_type is None and self.log_path:
            Path(self.log_path).unlink(missing_ok=True)
