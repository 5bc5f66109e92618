"""Exactly once under fire: gunicorn with 4 workers, 200 signed deliveries at once.

Run alone with `pytest -m concurrency`. 50 distinct messages × 4 copies, spread over every
provider (each signed its own way by tests/signing.py), posted by 100 threads released together;
the database must hold exactly 50.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import empty_tables
from tests.signing import SECRETS, SIGNERS, SignedRequest
from webapp import create_app
from webapp.extensions import db
from webapp.models import Message
from webapp.numbers.service import provision
from webapp.providers import PROVIDERS

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.concurrency

DISTINCT, COPIES, THREADS = 50, 4, 100
SENDER = "+447911123456"  # not one of the provisioned numbers


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(base: str, proc: subprocess.Popen) -> None:
    deadline = time.time() + 30
    while time.time() < deadline:
        assert proc.poll() is None, "gunicorn exited"
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1).read()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not answer within 30 s")


def _send(base: str, req: SignedRequest, barrier: threading.Barrier) -> tuple[int, float]:
    request = urllib.request.Request(base + req.path, data=req.body or None,
                                     headers=req.headers, method=req.method)
    barrier.wait(timeout=30)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            status = resp.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    return status, time.perf_counter() - started


@pytest.fixture
def gunicorn_site(base_config, tmp_path):
    """gunicorn with 4 workers on the test database, every signer's number provisioned.

    Its environment carries every secret of SECRETS, so each provider verifies its requests.
    """
    port = _free_port()
    site_url = f"http://127.0.0.1:{port}"
    app = create_app({**base_config, "SITE_URL": site_url})
    with app.app_context():
        for provider, (_signer, number) in SIGNERS.items():
            provision(number, provider)
    env = {**os.environ, **SECRETS, "DATABASE_URL": base_config["DATABASE_URL"],
           "SITE_URL": site_url, "SECRET_KEY": "test", "WEB_CONCURRENCY": "4",
           "GUNICORN_BIND": f"127.0.0.1:{port}"}
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                                 "wsgi:app"], cwd=ROOT, env=env, stdout=out, stderr=out)
    try:
        _wait_until_up(site_url, proc)
        yield app, site_url, log
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        with app.app_context():
            empty_tables()
            db.engine.dispose()


def test_200_concurrent_deliveries_store_exactly_50(gunicorn_site) -> None:
    app, site_url, log = gunicorn_site
    providers = sorted(PROVIDERS)
    assert sorted(SIGNERS) == providers, "every provider needs a signer in tests/signing.py"
    requests = []
    for i in range(DISTINCT):
        provider = providers[i % len(providers)]
        signer, number = SIGNERS[provider]
        req = signer(site_url, f"conc-{provider}-{i}", SENDER, number,
                     f"Your code is {100000 + i}")
        requests.extend([req] * COPIES)
    barrier = threading.Barrier(THREADS)
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(lambda r: _send(site_url, r, barrier), requests))
    statuses = sorted({status for status, _ in results})
    latencies = sorted(seconds for _, seconds in results)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    p50 = latencies[len(latencies) // 2]
    print(f"\nwebhook latency, {THREADS} concurrent: p50 {p50 * 1000:.0f} ms,"
          f" p99 {p99 * 1000:.0f} ms, statuses {statuses}")
    assert statuses == [200]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Message)) == DISTINCT
        per_provider = dict(db.session.execute(
            select(Message.provider, func.count()).group_by(Message.provider)).all())
    assert per_provider == Counter(providers[i % len(providers)] for i in range(DISTINCT))
    assert "database is locked" not in log.read_text(errors="replace")
