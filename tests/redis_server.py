"""A real Redis server (Debian's ``redis-server``) as a child process, for tests."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

import redis

HOST = "127.0.0.1"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
START_ATTEMPTS = 5


def redis_server_path() -> str | None:
    """Where ``redis-server`` is installed (``.ci/run`` installs it), if it is."""
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """``redis-server`` on loopback, its dump in ``data_dir``.

    Redis cannot listen on port 0 and report the port, so a free port is
    picked first; a start that loses the race to another process retries on
    another port. :meth:`restart` reuses the port and the data (an RDB dump
    written at shutdown).
    """

    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir)
        self.log_path = self.data_dir / "redis.log"
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if self._process is not None:
            raise RuntimeError("redis-server already running")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fixed_port = bool(self.port)
        for _ in range(1 if fixed_port else START_ATTEMPTS):
            if not fixed_port:
                self.port = _free_port()
            if self._start_on_port():
                return
        raise RuntimeError("redis-server did not start; log:\n%s" % self.read_log()[-4000:])

    def _start_on_port(self) -> bool:
        executable = redis_server_path()
        if executable is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self._process = subprocess.Popen(
            [
                executable, "--bind", HOST, "--port", str(self.port),
                "--dir", str(self.data_dir), "--dbfilename", "dump.rdb",
                "--logfile", str(self.log_path), "--save", "", "--appendonly", "no",
                "--daemonize", "no", "--protected-mode", "yes",
            ],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                return False
            if self._answers_ping():
                return True
            time.sleep(0.05)
        self.stop()
        raise TimeoutError("redis-server not ready within %.0f s" % START_TIMEOUT)

    def _answers_ping(self) -> bool:
        client = redis.Redis(host=HOST, port=self.port, socket_connect_timeout=0.2)
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False
        finally:
            client.close()

    def stop(self) -> None:
        """Stops the server; SIGTERM makes it write its dump, kept for :meth:`restart`."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def url(self) -> str:
        if not self.port:
            raise RuntimeError("redis-server not started")
        return "redis://%s:%d/0" % (HOST, self.port)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)

    def all_keys_and_values(self) -> dict[bytes, object]:
        """Every key with its value, whatever its type: to look for what must not be there."""
        client = self.client()
        try:
            return {key: _value(client, key) for key in client.scan_iter()}
        finally:
            client.close()

    def read_log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _value(client: redis.Redis, key: bytes) -> object:
    kind = client.type(key)
    readers = {
        b"string": client.get,
        b"list": lambda k: client.lrange(k, 0, -1),
        b"set": client.smembers,
        b"zset": lambda k: client.zrange(k, 0, -1, withscores=True),
        b"hash": client.hgetall,
    }
    reader = readers.get(kind if isinstance(kind, bytes) else str(kind).encode())
    return reader(key) if reader else kind
