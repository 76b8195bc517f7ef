"""A real MongoDB-wire-protocol server (nx-27017) as a child process, for tests."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import ConnectionFailure

from sandbox.process import HOST, ChildServer

NX_27017 = Path(sys.executable).parent / "nx-27017"


class MongoServer(ChildServer):
    """``nx-27017`` on loopback, its data in ``data_dir``.

    The first start listens on port 0, so the kernel picks a free port (no
    race with other test runs); :meth:`restart` reuses that port and the data.
    """

    name = "nx-27017"
    listens_on_port_zero = True

    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir)
        super().__init__(self.data_dir / "nx-27017.log")

    def _launch(self) -> subprocess.Popen[bytes]:
        with open(self.data_dir / "nx-27017.out", "ab") as output:
            return subprocess.Popen(
                [
                    str(NX_27017), "--host", HOST, "-p", str(self.port),
                    "--data-dir", str(self.data_dir / "data"),
                    "--log-file", str(self.log_path), "--pid-file", str(self.data_dir / "nx-27017.pid"),
                ],
                stdin=subprocess.DEVNULL, stdout=output, stderr=output,
            )

    def _ready(self) -> bool:
        if self.port == 0:
            self.port = self._port_from_log()
        return bool(self.port) and self._answers_ping()

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

    def uri(self, dbname: str) -> str:
        if not self.port:
            raise RuntimeError("nx-27017 not started")
        return "mongodb://%s:%d/%s" % (HOST, self.port, dbname)
