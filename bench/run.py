"""Throughput of the number page, the feed and the webhook under gunicorn, driven by wrk.

Usage:  .venv/bin/python bench/run.py [--messages 2000] [--seconds 10] [--connections 8]
        [--database-url postgresql://postgres@127.0.0.1:5432/test] [--redis-url redis://…]

Loopback only; every wrk run is bounded by --seconds; gunicorn is started here and
stopped here by its own pid. Needs Debian's `wrk` (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
NUMBER = "+14155552671"

WEBHOOK_LUA = r"""
counter = 0
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
prefix = tostring(math.random(1, 1e9))
request = function()
  counter = counter + 1
  local id = prefix .. "-" .. counter
  local body = '{"type":"sms.received","timestamp":"2025-03-14T09:26:53Z","data":{"id":"'
    .. id .. '","from":"+447400123456","to":"+14155552671","text":"Your code is '
    .. (100000 + counter % 899999) .. '"}}'
  return wrk.format("POST", "/webhooks/generic", {["Content-Type"]="application/json"}, body)
end
"""

ETAG_LUA = r"""
wrk.headers["If-None-Match"] = ETAG
"""


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_database(env: dict[str, str], messages: int) -> None:
    """Upgrade the schema, provision the number and store `messages` messages through ingest."""
    os.environ.update(env)
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.extensions import db
    from webapp.ingest.service import record_inbound
    from webapp.numbers.service import provision
    from webapp.providers.base import InboundSms

    app = create_app()
    with app.app_context():
        upgrade()
        provision(NUMBER, "generic")
        texts = ["Your Google code is G-{n}", "Tu código de WhatsApp es {n}",
                 "Ваш код подтверждения: {n}", "【腾讯】验证码：{n}，5分钟内有效",
                 "Visit https://example.com/x?{n} & reply STOP <b>now</b>"]
        for i in range(messages):
            text = texts[i % len(texts)].format(n=100000 + i)
            record_inbound("generic", InboundSms(f"seed-{i}", "+447400123456", NUMBER, text))
            if i % 500 == 499:
                db.session.commit()
        db.session.commit()
        db.engine.dispose()


def start_gunicorn(env: dict[str, str], port: int, workers: int) -> subprocess.Popen:
    """gunicorn serving wsgi:app on 127.0.0.1:port; waits until /healthz answers."""
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env={**os.environ, **env},
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    raise SystemExit("gunicorn did not start")


def run_wrk(url: str, seconds: int, connections: int, script: str | None) -> dict[str, float]:
    """Run wrk once; requests/s, p50 and p99 in milliseconds, and non-2xx/3xx count."""
    cmd = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency",
           "--timeout", "5s", url]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        if script:
            lua.write(script)
            cmd[1:1] = ["-s", lua.name]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30).stdout
    os.unlink(lua.name)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": _latency(out, "50%"),
        "p99": _latency(out, "99%"),
        "errors": float(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out))
        else 0.0,
    }


def _latency(out: str, label: str) -> float:
    value, unit = re.search(rf"{re.escape(label)}\s+([\d.]+)(us|ms|s)", out).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> None:
    """Prepare data, start gunicorn, measure each endpoint, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--redis-url", default="")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk")
    tmp = tempfile.mkdtemp(prefix="bench-")
    env = {
        "DATABASE_URL": args.database_url or f"sqlite:///{tmp}/bench.sqlite3",
        "RATELIMIT_STORAGE_URI": args.redis_url or "memory://",
        "FEED_RATE_LIMIT": "100000000/minute",
        "WEBHOOK_ALLOW_UNSIGNED": "1",
        "SECRET_KEY": "bench",
        "SITE_URL": "http://127.0.0.1",
    }
    prepare_database(env, args.messages)
    port = free_port()
    proc = start_gunicorn(env, port, args.workers)
    base = f"http://127.0.0.1:{port}"
    digits = NUMBER.lstrip("+")
    try:
        page = urllib.request.urlopen(f"{base}/number/{digits}")
        etag = page.headers.get("ETag")
        cases = [
            ("number page", f"{base}/number/{digits}", None),
            ("number page 304", f"{base}/number/{digits}",
             ETAG_LUA.replace("ETAG", repr(etag)) if etag else None),
            ("feed", f"{base}/api/v1/numbers/{digits}/messages", None),
            ("webhook insert", f"{base}/webhooks/generic", WEBHOOK_LUA),
        ]
        print(f"{'endpoint':<18} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
        for name, url, script in cases:
            r = run_wrk(url, args.seconds, args.connections, script)
            print(f"{name:<18} {r['rps']:>9.0f} {r['p50']:>8.2f} {r['p99']:>8.2f} "
                  f"{r['errors']:>8.0f}", flush=True)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
