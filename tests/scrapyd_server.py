"""A real Scrapyd (1.6.0, from ``.venv-scrapyd``, see the Makefile) as a child process, for tests.

Scrapyd runs in its own directory, with its own ``scrapyd.conf``, behind a
username and password, in the environment the test gives it: the one its jobs
inherit. Its web service is driven with urllib as an operator drives it with
curl.
"""

from __future__ import annotations

import base64
import json
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCRAPYD_VENV = ROOT / ".venv-scrapyd"
HOST = "127.0.0.1"
USERNAME = "operator"
PASSWORD = "scrapyd-password-Hq4Tz"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
START_ATTEMPTS = 5
#: Jobs start within this of being scheduled (Scrapyd's default is 5 s).
POLL_INTERVAL = 0.2


def scrapyd_executable() -> Path | None:
    """Scrapyd in its own environment, if ``make install-test`` made it."""
    executable = SCRAPYD_VENV / "bin" / "scrapyd"
    return executable if executable.exists() else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class ScrapydServer:
    """``scrapyd`` on loopback; everything it writes under ``base_dir``.

    Scrapyd cannot listen on port 0 (its configuration takes 0 as "no TCP
    port"), so a free port is picked first; a start that loses the race to
    another process retries on another port.
    """

    def __init__(self, base_dir: Path, environment: dict[str, str], *, items: bool = True) -> None:
        self.base_dir = base_dir
        self.environment = environment
        self.items = items
        self.log_path = base_dir / "scrapyd.log"
        self.port = 0
        #: Every answer of the web service, as received.
        self.answers: list[bytes] = []
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def start(self) -> None:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        for _ in range(START_ATTEMPTS):
            self.port = _free_port()
            self._write_configuration()
            if self._start_on_port():
                return
        raise RuntimeError("scrapyd did not start; log:\n%s" % self.read_log()[-4000:])

    def _write_configuration(self) -> None:
        directories = {name: self.base_dir / name for name in ("eggs", "logs", "items", "dbs")}
        for directory in directories.values():
            directory.mkdir(exist_ok=True)
        lines = [
            "[scrapyd]",
            f"bind_address = {HOST}",
            f"http_port = {self.port}",
            f"username = {USERNAME}",
            f"password = {PASSWORD}",
            f"eggs_dir = {directories['eggs']}",
            f"logs_dir = {directories['logs']}",
            f"items_dir = {directories['items'] if self.items else ''}",
            f"dbs_dir = {directories['dbs']}",
            "jobs_to_keep = 5",
            "max_proc = 2",
            f"poll_interval = {POLL_INTERVAL}",
            # Finished jobs in dbs_dir, not only in memory: one more place to
            # check for the token.
            "jobstorage = scrapyd.jobstorage.SqliteJobStorage",
        ]
        (self.base_dir / "scrapyd.conf").write_text("\n".join(lines) + "\n", "utf-8")

    def _start_on_port(self) -> bool:
        executable = scrapyd_executable()
        if executable is None:
            raise RuntimeError("Scrapyd's environment is missing: run make install-test")
        self.log_path.unlink(missing_ok=True)
        # Scrapyd reads scrapyd.conf from its working directory. What it
        # prints before its log is open goes to scrapyd.out.
        with (self.base_dir / "scrapyd.out").open("ab") as output:
            self._process = subprocess.Popen(
                [str(executable), "--logfile", str(self.log_path), "--pidfile", ""],
                cwd=self.base_dir, env=self.environment,
                stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if f"Site starting on {self.port}" in self.read_log():
                return True
            if self._process.poll() is not None:
                self._process = None
                return False
            time.sleep(0.1)
        self.stop()
        raise TimeoutError("scrapyd did not listen within %.0f s; log:\n%s" % (START_TIMEOUT, self.read_log()))

    def stop(self) -> None:
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._process = None

    def read_log(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace") if self.log_path.exists() else ""

    def call_raw(self, endpoint: str, fields: list[tuple[str, str]] | None = None) -> bytes:
        """One call of the web service (POST when *fields* are given), as its raw answer."""
        data = None if fields is None else urllib.parse.urlencode(fields).encode("ascii")
        request = urllib.request.Request(self.url + endpoint, data=data)
        credentials = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode("ascii")
        request.add_header("Authorization", f"Basic {credentials}")
        with urllib.request.urlopen(request, timeout=30) as answer:
            self.answers.append(answer.read())
        return self.answers[-1]

    def call(self, endpoint: str, fields: list[tuple[str, str]] | None = None) -> dict[str, Any]:
        answer = json.loads(self.call_raw(endpoint, fields))
        if answer.get("status") != "ok":
            raise RuntimeError("Scrapyd refused %s: %s" % (endpoint, answer))
        return answer

    def schedule(
        self, project: str, spider: str, *, arguments: dict[str, str], settings: dict[str, str],
    ) -> str:
        """``schedule.json``: spider arguments and settings, as curl's ``-d`` fields."""
        fields = [("project", project), ("spider", spider), *arguments.items()]
        fields += [("setting", f"{name}={value}") for name, value in settings.items()]
        return str(self.call("schedule.json", fields)["jobid"])

    def wait_for_job(self, job_id: str, timeout: float = 60.0) -> dict[str, Any]:
        """The job's entry in ``listjobs.json`` once it is among the finished ones."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for job in self.call("listjobs.json")["finished"]:
                if job["id"] == job_id:
                    return job
            time.sleep(0.2)
        raise TimeoutError("job %s did not finish within %.0f s; log:\n%s" % (job_id, timeout, self.read_log()))

    def __enter__(self) -> ScrapydServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None,
    ) -> None:
        self.stop()
