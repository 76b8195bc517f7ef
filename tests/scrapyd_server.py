"""A real Scrapyd (1.6.0, from ``.venv-scrapyd``, see the Makefile) as a child process, for tests.

Scrapyd runs in its own directory, with its own ``scrapyd.conf``, behind a
username and password, in the environment the test gives it: the one its jobs
inherit. Its web service is driven with urllib as an operator drives it with
curl.
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from sandbox.process import HOST, ChildServer

ROOT = Path(__file__).resolve().parent.parent
SCRAPYD_VENV = ROOT / ".venv-scrapyd"
USERNAME = "operator"
PASSWORD = "scrapyd-password-Hq4Tz"
#: Jobs start within this of being scheduled (Scrapyd's default is 5 s).
POLL_INTERVAL = 0.2


def scrapyd_executable() -> Path | None:
    """Scrapyd in its own environment, if ``make install-test`` made it."""
    executable = SCRAPYD_VENV / "bin" / "scrapyd"
    return executable if executable.exists() else None


class ScrapydServer(ChildServer):
    """``scrapyd`` on loopback; everything it writes under ``base_dir``.

    Scrapyd cannot listen on port 0 (its configuration takes 0 as "no TCP
    port"), so a free port is picked first.
    """

    name = "scrapyd"
    start_timeout = 30.0

    def __init__(self, base_dir: Path, environment: dict[str, str], *, items: bool = True) -> None:
        super().__init__(base_dir / "scrapyd.log")
        self.base_dir = base_dir
        self.environment = environment
        self.items = items
        #: Every answer of the web service, as received.
        self.answers: list[bytes] = []

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

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

    def _launch(self) -> subprocess.Popen[bytes]:
        executable = scrapyd_executable()
        if executable is None:
            raise RuntimeError("Scrapyd's environment is missing: run make install-test")
        self._write_configuration()
        self.log_path.unlink(missing_ok=True)
        # Scrapyd reads scrapyd.conf from its working directory. What it
        # prints before its log is open goes to scrapyd.out.
        with (self.base_dir / "scrapyd.out").open("ab") as output:
            return subprocess.Popen(
                [str(executable), "--logfile", str(self.log_path), "--pidfile", ""],
                cwd=self.base_dir, env=self.environment,
                stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
            )

    def _ready(self) -> bool:
        return f"Site starting on {self.port}" in self.read_log()

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
