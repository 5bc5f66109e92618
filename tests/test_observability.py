"""Observability: JSON log lines with nothing raw in them, /metrics, /healthz, many workers."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.exc import OperationalError
from standardwebhooks.webhooks import Webhook

from tests.conftest import TEST_REDIS_URL
from tests.signing import SECRETS, SIGNERS
from webapp import create_app
from webapp.extensions import db
from webapp.logs import JsonFormatter, TextFormatter
from webapp.numbers.service import provision

ROOT = Path(__file__).resolve().parent.parent
generic, NUMBER = SIGNERS["generic"]
# Raw in a log line, any of these could forge a line, recolour a terminal or reorder text.
RAW_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
FAKE_LINE = '{"time": "2025-01-01T00:00:00Z", "level": "ERROR", "message": "forged"}'
HOSTILE_TEXT = f"SECRET-BODY 4242 \x1b[31mred\u202eevil\r\n{FAKE_LINE}\n\u2028x"
RFC3339_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")

MakeApp = Callable[..., Flask]


def signed_app(make_app: MakeApp, **overrides: Any) -> Flask:
    """An app with the test signing secrets and the generic provider's number provisioned."""
    app = make_app({**SECRETS, **overrides})
    with app.app_context():
        provision(NUMBER, "generic")
    return app


def deliver(app: Flask, text: str = "Your code is 1234", msg_id: str | None = None,
            **headers: str):
    """Post one signed generic delivery through the test client."""
    req = generic("", msg_id or uuid.uuid4().hex, "+447400123456", NUMBER, text)
    return app.test_client().open(req.path, method=req.method,
                                  headers={**req.headers, **headers}, data=req.body)


def deliver_signed_body(app: Flask, body: str):
    """Post a correctly signed generic delivery whose body is `body`, whatever it holds."""
    event_id, moment = "msg_" + uuid.uuid4().hex, datetime.now(UTC)
    secret = SECRETS["GENERIC_WEBHOOK_SECRET"].split()[0]  # the current one of a rotation
    signature = Webhook(secret).sign(event_id, moment, body)
    headers = {"Content-Type": "application/json", "webhook-id": event_id,
               "webhook-signature": signature, "webhook-timestamp": str(int(moment.timestamp()))}
    return app.test_client().post("/webhooks/generic", headers=headers, data=body)


def json_lines(out: str) -> list[dict[str, Any]]:
    """Every line of captured stdout, each parsed as JSON (fails on any other line)."""
    return [json.loads(line) for line in out.splitlines() if line]


def request_lines(out: str) -> list[dict[str, Any]]:
    """The one-per-request log lines."""
    return [line for line in json_lines(out) if line["logger"] == "webapp.request"]


def metric(text: str, name: str, **labels: str) -> float:
    """One sample's value in a Prometheus exposition, 0 when absent."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


def scrape(app: Flask) -> str:
    """/metrics as the loopback scraper sees it."""
    response = app.test_client().get("/metrics")
    assert response.status_code == 200
    return response.get_data(as_text=True)


# --- logs ---------------------------------------------------------------------------------


def test_log_lines_are_json_with_the_request_fields(make_app: MakeApp, capsys) -> None:
    app = make_app({"LOG_FORMAT": "json"})
    capsys.readouterr()

    response = app.test_client().get("/robots.txt", headers={"X-Request-ID": "abc.DEF_1-2"})

    [line] = request_lines(capsys.readouterr().out)
    assert RFC3339_UTC.fullmatch(line["time"])
    assert (line["level"], line["message"]) == ("INFO", "request")
    assert line["request_id"] == "abc.DEF_1-2" == response.headers["X-Request-ID"]
    assert (line["method"], line["path"], line["status"]) == ("GET", "/robots.txt", 200)
    assert line["endpoint"] == "numbers.robots"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_hostile_webhook_text_reaches_no_log_line_raw(
    make_app: MakeApp, capsys, log_format: str
) -> None:
    app = signed_app(make_app, LOG_FORMAT=log_format)
    capsys.readouterr()

    accepted = deliver(app, HOSTILE_TEXT)
    refused = deliver(app, HOSTILE_TEXT, **{"webhook-signature": "v1,AAAA"})
    hostile_path = app.test_client().get("/webhooks/x%1b%5b2J%e2%80%ae%0d%0a" + "y" * 500)

    assert (accepted.status_code, refused.status_code, hostile_path.status_code) == (
        200, 401, 404)
    captured = capsys.readouterr()
    for line in (captured.out + captured.err).splitlines():
        assert not RAW_CONTROL.search(line), line
    assert "SECRET-BODY" not in captured.out + captured.err
    assert "forged" not in captured.out + captured.err
    if log_format == "json":
        lines = request_lines(captured.out)
        webhook = lines[0]
        assert (webhook["provider"], webhook["outcome"], webhook["new_messages"]) == (
            "generic", "accepted", 1)
        assert lines[1]["outcome"] == "refused_signature"
        assert lines[2]["path"].startswith("/webhooks/x\x1b[2J\u202e\r\n")  # decoded, intact
        assert len(lines[2]["path"]) <= 256
    else:
        assert "/webhooks/x\\u001b[2J\\u202e\\r\\n" in captured.out


@pytest.mark.parametrize("formatter", [JsonFormatter(), TextFormatter()])
def test_formatters_escape_every_control_character(formatter: logging.Formatter) -> None:
    nasty = "".join(map(chr, [*range(0x20), 0x7F, *range(0x80, 0xA0)]))
    nasty += "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029"
    record = logging.LogRecord("webapp.x", logging.ERROR, __file__, 1, "m %s", (nasty,), None)
    record.detail = nasty
    try:
        raise ValueError(nasty)
    except ValueError:
        record.exc_info = sys.exc_info()

    line = formatter.format(record)

    assert "\n" not in line and not RAW_CONTROL.search(line)
    assert "\\u202e" in line and "\\u001b" in line


def test_caplog_still_sees_the_app_logs(make_app: MakeApp, caplog) -> None:
    app = make_app()

    with caplog.at_level(logging.INFO, logger="webapp"):
        app.test_client().get("/robots.txt")

    [record] = [r for r in caplog.records if r.name == "webapp.request"]
    assert record.status == 200 and record.endpoint == "numbers.robots"


# --- request ids --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "hostile", ["x" * 65, "a b", "evil\r\nSet-Cookie: a=b", "\u202eabc", "", "a/b", "é"]
)
def test_hostile_request_id_is_replaced_by_a_fresh_one(make_app: MakeApp, hostile: str) -> None:
    client = make_app().test_client()

    response = client.get("/robots.txt", environ_overrides={"HTTP_X_REQUEST_ID": hostile})

    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def test_a_safe_request_id_is_echoed(make_app: MakeApp) -> None:
    client = make_app().test_client()
    given = "req-" + "A" * 60

    assert client.get("/nope", headers={"X-Request-ID": given}).headers["X-Request-ID"] == given


# --- metrics ------------------------------------------------------------------------------


def test_metrics_count_requests_and_webhook_outcomes(make_app: MakeApp, monkeypatch) -> None:
    app = signed_app(make_app)
    client = app.test_client()
    before = scrape(app)

    client.get("/robots.txt")
    client.get("/robots.txt")
    client.get("/no/such/page-1")
    msg_id = uuid.uuid4().hex
    assert deliver(app, msg_id=msg_id).status_code == 200
    assert deliver(app, msg_id=msg_id).status_code == 200  # the carrier's retry
    assert deliver(app, **{"webhook-signature": "v1,AAAA"}).status_code == 401
    assert deliver_signed_body(app, '{"type": "other"}').status_code == 400
    monkeypatch.setattr(db.session, "commit", broken_commit)
    assert deliver(app).status_code == 503
    monkeypatch.undo()
    after = scrape(app)

    def moved(name: str, **labels: str) -> float:
        return metric(after, name, **labels) - metric(before, name, **labels)

    robots = {"endpoint": "numbers.robots"}
    assert moved("webapp_http_requests_total", **robots, status_class="2xx") == 2
    assert moved("webapp_http_request_duration_seconds_count", **robots) == 2
    assert moved("webapp_http_requests_total", endpoint="unmatched", status_class="4xx") == 1
    for outcome, count in [("accepted", 1), ("duplicate", 1), ("refused_signature", 1),
                           ("refused_payload", 1), ("error", 1)]:
        assert moved("webapp_webhook_deliveries_total", provider="generic",
                     outcome=outcome) == count, outcome
    assert moved("webapp_messages_stored_total", provider="generic") == 1
    assert "/no/such" not in after  # endpoints, never raw paths, as labels


def broken_commit(*_args: Any, **_kwargs: Any) -> None:
    """A database that fails on commit."""
    raise OperationalError("INSERT", {}, Exception("disk I/O error"))


def test_rate_limited_feed_answers_are_counted(make_app: MakeApp) -> None:
    app = make_app({"FEED_RATE_LIMIT": "1/minute"})
    before = scrape(app)

    statuses = [app.test_client().get("/api/v1/countries").status_code for _ in range(3)]

    assert statuses == [200, 429, 429]
    moved = metric(scrape(app), "webapp_feed_rate_limited_responses_total") - metric(
        before, "webapp_feed_rate_limited_responses_total")
    assert moved == 2


@pytest.mark.parametrize("remote", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_metrics_answer_loopback(make_app: MakeApp, remote: str) -> None:
    response = make_app().test_client().get("/metrics", environ_overrides={"REMOTE_ADDR": remote})

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "webapp_http_requests" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("overrides", "environ"),
    [
        ({}, {"REMOTE_ADDR": "203.0.113.9"}),
        ({}, {"REMOTE_ADDR": "2001:db8::1"}),
        ({}, {"REMOTE_ADDR": ""}),
        # a local reverse proxy relaying a public caller, without TRUSTED_PROXIES set
        ({}, {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}),
        ({"TRUSTED_PROXIES": 1}, {"REMOTE_ADDR": "127.0.0.1",
                                  "HTTP_X_FORWARDED_FOR": "203.0.113.9"}),
    ],
)
def test_metrics_are_404_for_everyone_else(make_app: MakeApp, overrides, environ) -> None:
    response = make_app(overrides).test_client().get("/metrics", environ_overrides=environ)

    assert response.status_code == 404
    assert "webapp_" not in response.get_data(as_text=True)


def test_metrics_allow_from_is_configurable(make_app: MakeApp) -> None:
    app = make_app({"METRICS_ALLOW_FROM": "10.0.0.0/8, 203.0.113.0/24"})
    client = app.test_client()

    assert client.get("/metrics", environ_overrides={"REMOTE_ADDR": "203.0.113.9"}).status_code \
        == 200
    assert client.get("/metrics").status_code == 404  # loopback no longer listed


def test_a_bad_metrics_allow_from_fails_at_start(make_app: MakeApp) -> None:
    with pytest.raises(ValueError):
        make_app({"METRICS_ALLOW_FROM": "localhost"})


# --- health -------------------------------------------------------------------------------


def test_healthz_ok(client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok", "database": "ok", "redis": "ok" if TEST_REDIS_URL else "not configured"}
    assert response.headers["Cache-Control"] == "no-store"


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def blackhole_port() -> Iterator[int]:
    """A port that accepts connections (in the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


@pytest.mark.parametrize("port_fixture", ["closed_port", "blackhole_port"])
def test_healthz_degraded_but_200_when_redis_is_down(
    make_app: MakeApp, request: pytest.FixtureRequest, port_fixture: str
) -> None:
    port = request.getfixturevalue(port_fixture)
    app = make_app({"RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{port}/0"})

    started = time.perf_counter()
    response = app.test_client().get("/healthz")
    elapsed = time.perf_counter() - started

    assert response.status_code == 200
    assert response.get_json() == {"status": "degraded", "database": "ok", "redis": "down"}
    assert elapsed < 1.5


def test_healthz_503_when_the_database_is_down(
    base_config: dict[str, Any], tmp_path: Path
) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "db.sqlite3"
    app = create_app({**base_config, "DATABASE_URL": f"sqlite:///{missing}"})

    response = app.test_client().get("/healthz")
    with app.app_context():
        db.engine.dispose()

    assert response.status_code == 503
    assert response.get_json()["status"] == "down"
    assert response.get_json()["database"] == "down"
    assert response.headers["Cache-Control"] == "no-store"


# --- several gunicorn workers ---------------------------------------------------------------


def test_gunicorn_conf_makes_a_metrics_dir_and_removes_it() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    code = ("import os, runpy; conf = runpy.run_path('gunicorn.conf.py'); "
            "d = os.environ['PROMETHEUS_MULTIPROC_DIR']; print(os.path.isdir(d)); "
            "conf['on_exit'](None); print(os.path.exists(d))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True, timeout=30).stdout

    assert out.split() == ["True", "False"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def _leave_stale_counts(directory: Path) -> None:
    """Counts a previous run left behind; gunicorn must empty the directory at start."""
    code = ("from prometheus_client import Counter; Counter('webapp_http_requests', '', "
            "['endpoint', 'status_class']).labels('numbers.robots', '2xx').inc(1000)")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30,
                   env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)})
    assert list(directory.glob("counter_*.db"))


@pytest.fixture
def gunicorn_workers(base_config: dict[str, Any], tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """gunicorn with 3 workers through gunicorn.conf.py, on 127.0.0.1 only."""
    port = _free_port()
    site_url = f"http://127.0.0.1:{port}"
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    _leave_stale_counts(metrics_dir)
    env = {**os.environ, "DATABASE_URL": base_config["DATABASE_URL"], "SECRET_KEY": "test",
           "SITE_URL": site_url, "WEB_CONCURRENCY": "3", "GUNICORN_BIND": f"127.0.0.1:{port}",
           "RATELIMIT_STORAGE_URI": base_config["RATELIMIT_STORAGE_URI"],
           "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    with (tmp_path / "gunicorn.log").open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                                 "wsgi:app"], cwd=ROOT, env=env, stdout=out, stderr=out)
    try:
        deadline = time.time() + 30
        while _up(site_url, proc) is False:
            assert time.time() < deadline, "gunicorn did not answer within 30 s"
            time.sleep(0.2)
        yield site_url, metrics_dir
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _up(site_url: str, proc: subprocess.Popen) -> bool:
    assert proc.poll() is None, "gunicorn exited"
    try:
        return _get(site_url + "/healthz")[0] == 200
    except OSError:
        return False


def _workers_that_counted(metrics_dir: Path) -> int:
    """How many processes' files hold a count of /robots.txt answers."""
    from prometheus_client.mmap_dict import MmapedDict

    files = 0
    for path in metrics_dir.glob("counter_*.db"):
        values = MmapedDict.read_all_values_from_file(str(path))
        files += any('"numbers.robots"' in key and value for key, value, *_ in values)
    return files


@pytest.mark.concurrency
def test_metrics_add_up_across_gunicorn_workers(gunicorn_workers: tuple[str, Path]) -> None:
    site_url, metrics_dir = gunicorn_workers
    total = 90

    with ThreadPoolExecutor(15) as pool:
        statuses = list(pool.map(lambda _: _get(site_url + "/robots.txt")[0], range(total)))

    assert statuses == [200] * total
    assert _workers_that_counted(metrics_dir) >= 2
    for _ in range(4):  # whichever worker answers the scrape, it reports every worker's count
        status, text = _get(site_url + "/metrics")
        assert status == 200
        series = {"endpoint": "numbers.robots", "status_class": "2xx"}
        assert metric(text, "webapp_http_requests_total", **series) == total
        assert metric(text, "webapp_http_request_duration_seconds_count",
                      endpoint="numbers.robots") == total


def test_a_quote_in_forwarded_for_does_not_open_metrics_behind_a_local_proxy(make_app) -> None:
    app = make_app({"TRUSTED_PROXIES": 1, "LOG_FORMAT": "text"})
    client = app.test_client()
    local_proxy = {"REMOTE_ADDR": "127.0.0.1"}
    for forwarded in ('"', '", 203.0.113.5', "203.0.113.5"):
        resp = client.get("/metrics", headers={"X-Forwarded-For": forwarded},
                          environ_overrides=local_proxy)
        assert resp.status_code == 404, forwarded
    resp = client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"},
                      environ_overrides=local_proxy)
    assert resp.status_code == 200
