"""The benchmark's moving parts: databases, gunicorn servers and wrk runs, all on loopback.

Every process started here is stopped here, by its own pid; every wrk run and every wait
is bounded in time. A PostgreSQL database is a schema of its own (`search_path` in the
URL), dropped at the end.
"""

from __future__ import annotations

import os
import re
import runpy
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv/bin/python")
GUNICORN = str(ROOT / ".venv/bin/gunicorn")


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _engine_url(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1]


@dataclass
class Database:
    """A database for one run: a SQLite file or a PostgreSQL schema."""

    url: str
    schema: str = ""
    admin_url: str = ""

    @classmethod
    def sqlite(cls, folder: str, name: str) -> Database:
        """A new SQLite file in `folder`."""
        return cls(f"sqlite:///{folder}/{name}.sqlite3")

    @classmethod
    def postgres(cls, admin_url: str) -> Database:
        """A new schema on the server of `admin_url`, reached through `search_path`."""
        import sqlalchemy

        schema = "bench_" + uuid.uuid4().hex[:10]
        engine = sqlalchemy.create_engine(_engine_url(admin_url))
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text(f"CREATE SCHEMA {schema}"))
        engine.dispose()
        separator = "&" if "?" in admin_url else "?"
        return cls(f"{admin_url}{separator}options=-csearch_path%3D{schema}", schema, admin_url)

    def fill(self, numbers: int, messages: int, cache: str) -> str:
        """Run bench/generate.py on this database; its report line."""
        out = subprocess.run(
            [PYTHON, str(ROOT / "bench/generate.py"), "--reset", "--numbers", str(numbers),
             "--messages", str(messages), "--cache", cache],
            cwd=ROOT, env={**os.environ, "DATABASE_URL": self.url}, capture_output=True,
            text=True, timeout=900, check=False,
        )
        if out.returncode != 0:
            raise SystemExit(f"bench/generate.py failed:\n{out.stderr[-3000:]}")
        return out.stdout.strip().splitlines()[-1]

    def drop(self) -> None:
        """Drop the PostgreSQL schema (SQLite files go with the run's folder)."""
        if not self.schema:
            return
        import sqlalchemy

        engine = sqlalchemy.create_engine(_engine_url(self.admin_url))
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE"))
        engine.dispose()


def gunicorn_settings() -> dict[str, object]:
    """The worker settings of gunicorn.conf.py, for serving the ceiling the same way."""
    found = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    return {name: found[name] for name in ("worker_class", "threads", "keepalive", "backlog")
            if name in found}


@dataclass
class Server:
    """A gunicorn with 2 workers serving the site (`wsgi:app`) or the ceiling."""

    kind: str  # "ceiling" for bench/ceiling.py; any other name serves the site
    env: dict[str, str]
    log: str
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        """http://127.0.0.1:port"""
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        """gunicorn.conf.py for the site; the same worker settings for the ceiling."""
        bind = f"127.0.0.1:{self.port}"
        if self.kind != "ceiling":
            return [GUNICORN, "-c", "gunicorn.conf.py", "-w", "2", "-b", bind, "wsgi:app"]
        cmd = [GUNICORN, "-w", "2", "-b", bind, "--log-level", "warning"]
        settings = gunicorn_settings()
        for name, flag in (("worker_class", "-k"), ("threads", "--threads"),
                           ("keepalive", "--keep-alive"), ("backlog", "--backlog")):
            if name in settings:
                cmd += [flag, str(settings[name])]
        return [*cmd, "bench.ceiling:app"]

    def start(self) -> Server:
        """Start and wait (at most 60 s) until /healthz answers."""
        env = {**os.environ, **self.env, "WEB_CONCURRENCY": "2",
               "GUNICORN_BIND": f"127.0.0.1:{self.port}", "PYTHONPATH": str(ROOT)}
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.command(), cwd=ROOT, env=env, stdout=log,
                                         stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                urllib.request.urlopen(f"{self.base}/healthz", timeout=2).read()
                return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        tail = Path(self.log).read_text(errors="replace")[-3000:]
        raise SystemExit(f"{self.kind} gunicorn did not start:\n{tail}")

    def stop(self) -> None:
        """SIGTERM our gunicorn master (it stops its workers); SIGKILL after 30 s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict, bytes]:
        """One GET: status, headers, body."""
        request = urllib.request.Request(self.base + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()


@dataclass(frozen=True)
class Result:
    """One wrk run."""

    rps: float
    p50: float  # milliseconds
    p99: float
    errors: int
    requests: int


def wrk(url: str, seconds: float, connections: int, script: str = "") -> Result:
    """Drive `url` for `seconds` with `connections` keep-alive connections (one wrk thread)."""
    duration = f"{max(1, round(seconds))}s"  # wrk takes whole seconds
    cmd = ["wrk", "-t", "1", "-c", str(connections), "-d", duration, "--latency", "--timeout", "5s"]
    lua = None
    if script:
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
            handle.write(script)
            lua = handle.name
        cmd += ["-s", lua]
    try:
        out = subprocess.run([*cmd, url], capture_output=True, text=True,
                             timeout=seconds + 30, check=False).stdout
    finally:
        if lua:
            os.unlink(lua)
    return _parse(out)


def _parse(out: str) -> Result:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if not rps or not total:
        sys.stderr.write(out)
        raise SystemExit("could not read wrk's output")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                              r"timeout (\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return Result(float(rps.group(1)), _latency(out, "50%"), _latency(out, "99%"), errors,
                  int(total.group(1)))


def _latency(out: str, label: str) -> float:
    match = re.search(rf"^\s*{re.escape(label)}\s+([\d.]+)(us|ms|s)\b", out, re.MULTILINE)
    if not match:
        return float("nan")
    value, unit = match.groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def webhook_script(recipient: str) -> str:
    """wrk Lua posting generic webhooks, each with a new message id."""
    prefix = uuid.uuid4().hex[:12]
    return f"""
counter = 0
request = function()
  counter = counter + 1
  local body = '{{"type":"sms.received","timestamp":"2025-03-14T09:26:53Z","data":{{"id":"'
    .. "{prefix}-" .. counter .. '","from":"+447400123499","to":"{recipient}","text":'
    .. '"Your WhatsApp code is ' .. (100000 + counter % 899999)
    .. '. Visit https://example.com/x?' .. counter .. ' <b>now</b>"}}}}'
  return wrk.format("POST", "/webhooks/generic", {{["Content-Type"]="application/json"}}, body)
end
"""


def if_none_match_script(etag: str) -> str:
    """wrk Lua sending If-None-Match with `etag`."""
    return f'wrk.headers["If-None-Match"] = [[{etag}]]\n'


def wait_for_fresh_minute(seconds: float) -> None:
    """Page ETags change each minute: sleep (< 1 min) so a run of `seconds` stays in one."""
    into = time.time() % 60
    if into > 60 - seconds - 2:
        time.sleep(60 - into + 0.3)
