"""A real MongoDB-wire-protocol server (nx-27017) as a child process, for tests."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

from pymongo import MongoClient
from pymongo.errors import ConnectionFailure

NX_27017 = Path(sys.executable).parent / "nx-27017"
HOST = "127.0.0.1"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


class MongoServer:
    """``nx-27017`` on loopback, its data in ``data_dir``.

    The first start listens on port 0, so the kernel picks a free port (no
    race with other test runs); :meth:`restart` reuses that port and the data.
    """

    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir)
        self.log_path = self.data_dir / "nx-27017.log"
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if self._process is not None:
            raise RuntimeError("nx-27017 already running")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.data_dir / "nx-27017.out", "ab") as output:
            self._process = subprocess.Popen(
                [
                    str(NX_27017), "--host", HOST, "-p", str(self.port),
                    "--data-dir", str(self.data_dir / "data"),
                    "--log-file", str(self.log_path), "--pid-file", str(self.data_dir / "nx-27017.pid"),
                ],
                stdin=subprocess.DEVNULL, stdout=output, stderr=output,
            )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                raise RuntimeError("nx-27017 exited at start; log:\n%s" % self.read_log()[-4000:])
            if self.port == 0:
                self.port = self._port_from_log()
            if self.port and self._answers_ping():
                return
            time.sleep(0.05)
        raise TimeoutError(
            "nx-27017 not ready within %.0f s; log:\n%s" % (START_TIMEOUT, self.read_log()[-4000:])
        )

    def _port_from_log(self) -> int:
        # The log is shared by restarts: take this process's line.
        assert self._process is not None
        pattern = re.compile(r"\[%d\] - Listening on [\d.]+:(\d+)" % self._process.pid)
        match = pattern.search(self.read_log())
        return int(match.group(1)) if match else 0

    def _answers_ping(self) -> bool:
        client: MongoClient = MongoClient(
            HOST, self.port, serverSelectionTimeoutMS=200, connectTimeoutMS=200,
        )
        try:
            client.admin.command("ping")
        except ConnectionFailure:
            return False
        finally:
            client.close()
        return True

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def uri(self, dbname: str) -> str:
        if not self.port:
            raise RuntimeError("nx-27017 not started")
        return "mongodb://%s:%d/%s" % (HOST, self.port, dbname)

    def read_log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def __enter__(self) -> MongoServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
