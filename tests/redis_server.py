"""A real Redis server (Debian's ``redis-server``) as a child process, for tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import redis

from sandbox.process import HOST, ChildServer
from xhs_spider.distributed.keys import CrawlKeys


def redis_server_path() -> str | None:
    """Where ``redis-server`` is installed (``.ci/run`` installs it), if it is."""
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )


class RedisServer(ChildServer):
    """``redis-server`` on loopback, its dump in ``data_dir``.

    Redis cannot listen on port 0 and report the port, so a free port is
    picked first. :meth:`restart` reuses the port and the data: the SIGTERM of
    :meth:`stop` makes it write its RDB dump.
    """

    name = "redis-server"

    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir)
        super().__init__(self.data_dir / "redis.log")

    def _launch(self) -> subprocess.Popen[bytes]:
        executable = redis_server_path()
        if executable is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        return subprocess.Popen(
            [
                executable, "--bind", HOST, "--port", str(self.port),
                "--dir", str(self.data_dir), "--dbfilename", "dump.rdb",
                "--logfile", str(self.log_path), "--save", "", "--appendonly", "no",
                "--daemonize", "no", "--protected-mode", "yes",
                # DEBUG POPULATE fills a database with unrelated keys in a blink.
                "--enable-debug-command", "local",
            ],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

    def _ready(self) -> bool:
        client = redis.Redis(host=HOST, port=self.port, socket_connect_timeout=0.2)
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False
        finally:
            client.close()

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


def live_workers(client: redis.Redis, crawl_id: str) -> dict[str, int]:
    """The crawl's workers whose heartbeat is there, with its time to live (ms),
    found as the crawl finds them: by name from its worker set."""
    crawl_keys = CrawlKeys(crawl_id)
    members = sorted(text(member) for member in client.smembers(crawl_keys.workers))
    ttls = [int(client.pttl(crawl_keys.worker(member))) for member in members]
    return {member: ttl for member, ttl in zip(members, ttls, strict=True) if ttl > 0}


def text(value: bytes | str) -> str:
    """A key or value as text, whether the client decodes or not."""
    return value.decode() if isinstance(value, bytes) else value


def _value(client: redis.Redis, key: bytes) -> object:
    kind = client.type(key)
    if isinstance(kind, str):
        kind = kind.encode()
    readers: dict[bytes, Any] = {
        b"string": client.get,
        b"list": lambda k: client.lrange(k, 0, -1),
        b"set": client.smembers,
        b"zset": lambda k: client.zrange(k, 0, -1, withscores=True),
        b"hash": client.hgetall,
    }
    reader = readers.get(kind)
    return reader(key) if reader else kind
