"""Feed limits that hold: one key per client whatever X-Forwarded-For says, one budget for
every worker and host through Redis, bounded answers when Redis refuses or never answers.

The `multiprocess` tests start gunicorn and use the Redis of scripts/services
(127.0.0.1:6379) on every run, SQLite or PostgreSQL; `pytest -m multiprocess` runs them alone.
"""

from __future__ import annotations

import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from webapp import config
from webapp.extensions import limiter
from webapp.feed.limits import address_key, client_key

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/0"
FEED = "/api/v1/countries"
MakeApp = Callable[..., Flask]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on: connections are refused at once."""
    return _free_port()


class SilentServer:
    """Accepts connections and answers nothing, like a Redis that hangs (a blackhole).

    With `relay_to`, connections are relayed there while `up` is true and closed while not.
    The thread stops when the test ends, and by itself after `lifetime` seconds.
    """

    def __init__(self, relay_to: tuple[str, int] | None = None, lifetime: float = 30) -> None:
        self.relay_to, self.up, self.deadline = relay_to, True, time.monotonic() + lifetime
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        held: list[socket.socket] = [self.listener]
        with selectors.DefaultSelector() as selector:
            selector.register(self.listener, selectors.EVENT_READ, None)
            while not self.stopped.is_set() and time.monotonic() < self.deadline:
                for key, _ in selector.select(timeout=0.05):
                    if key.data is None:
                        self._accept(selector, held)
                    elif data := key.fileobj.recv(65536):  # type: ignore[union-attr]
                        key.data.sendall(data)
                    else:
                        selector.unregister(key.fileobj)
        for sock in held:
            sock.close()

    def _accept(self, selector: selectors.BaseSelector, held: list[socket.socket]) -> None:
        conn, _ = self.listener.accept()
        held.append(conn)
        if self.relay_to is None:
            return  # held open, never read, never answered
        if not self.up:
            conn.close()
            return
        upstream = socket.create_connection(self.relay_to, timeout=1)
        held.append(upstream)
        selector.register(conn, selectors.EVENT_READ, upstream)
        selector.register(upstream, selectors.EVENT_READ, conn)

    def stop(self) -> None:
        """Close every connection and the listener."""
        self.stopped.set()
        self.thread.join(timeout=5)


@pytest.fixture
def silent_redis() -> Iterator[SilentServer]:
    """A 'Redis' that accepts connections and never answers."""
    server = SilentServer()
    yield server
    server.stop()


def statuses(client, n: int, headers=None, **environ: str) -> list[int]:
    """The statuses of `n` feed requests; `headers` may be a function of the request number."""
    made = [client.get(FEED, headers=headers(i) if callable(headers) else headers,
                       environ_overrides=environ) for i in range(n)]
    for response in made:
        assert response.headers["RateLimit-Limit"], "every feed answer carries RateLimit headers"
    return [response.status_code for response in made]


# --- the client key --------------------------------------------------------------------


@pytest.mark.parametrize("written,key", [
    ("203.0.113.9", "203.0.113.9"), (' "203.0.113.9" ', "203.0.113.9"),
    ("203.0.113.9:51234", "203.0.113.9"), ("::ffff:203.0.113.9", "203.0.113.9"),
    ("2001:db8:1:2::7", "2001:db8:1:2::/64"), ("[2001:db8:1:2:aa::1]:443", "2001:db8:1:2::/64"),
    ('"[2001:db8:1:2::1]"', "2001:db8:1:2::/64"), ("fe80::1%eth0", "fe80::/64"),
    ("unknown", None), ("", None), ("203.0.113.009", None), ("1.2.3.4 5.6.7.8", None),
    ("_hidden", None), ("<script>", None), ("x" * 5000, None),
])
def test_address_key_normalizes_what_proxies_write(written: str, key: str | None) -> None:
    assert address_key(written) == key


def test_client_key_is_the_peer_or_the_entry_the_trusted_proxy_wrote() -> None:
    assert client_key("198.51.100.7", "1.1.1.1", 0) == "198.51.100.7"
    assert client_key("10.0.0.1", "1.1.1.1, 203.0.113.9", 1) == "203.0.113.9"
    assert client_key("10.0.0.1", "1.1.1.1, 203.0.113.9, 10.0.0.2", 2) == "203.0.113.9"
    assert client_key("10.0.0.1", '"1.1.1.1, 203.0.113.9', 1) == "203.0.113.9"
    assert client_key("10.0.0.1", "1.1.1.1, garbage", 1) == "10.0.0.1"
    assert client_key("10.0.0.1", None, 1) == "10.0.0.1"
    assert client_key("10.0.0.1", "203.0.113.9", 2) == "10.0.0.1"
    assert client_key("", None, 0) == "unknown"


def rotating_forwarded_for(i: int) -> list[tuple[str, str]]:
    """What a client may put in X-Forwarded-For: new addresses, quotes, garbage, repeats."""
    forms = [f"192.0.2.{i}", f'"192.0.2.{i}', f'192.0.2.{i}"', f"[2001:db8::{i}]:{i}",
             f"unknown, 192.0.2.{i}", "\\", f"203.0.113.{i}:80", ",,,", f"{'x' * i}, 10.{i}.0.1"]
    return [("X-Forwarded-For", forms[i % len(forms)]), ("X-Forwarded-For", f"198.18.0.{i}")]


def test_without_proxies_forwarded_for_never_changes_the_key(make_app: MakeApp) -> None:
    client = make_app({"FEED_RATE_LIMIT": "5/minute", "TRUSTED_PROXIES": 0}).test_client()
    peer = {"REMOTE_ADDR": "198.51.100.7"}
    assert statuses(client, 9, rotating_forwarded_for, **peer) == [200] * 5 + [429] * 4
    assert statuses(client, 1, rotating_forwarded_for, REMOTE_ADDR="198.51.100.8") == [200]


def test_behind_one_proxy_only_the_proxys_entry_is_the_key(make_app: MakeApp) -> None:
    client = make_app({"FEED_RATE_LIMIT": "5/minute", "TRUSTED_PROXIES": 1}).test_client()
    proxy = {"REMOTE_ADDR": "10.0.0.1"}

    def through_proxy(i: int, client_ip: str = "203.0.113.9") -> list[tuple[str, str]]:
        written = [client_ip, f"{client_ip}:{40000 + i}", f'"{client_ip}"'][i % 3]
        return [*rotating_forwarded_for(i), ("X-Forwarded-For", written)]

    assert statuses(client, 9, through_proxy, **proxy) == [200] * 5 + [429] * 4
    other = statuses(client, 2, lambda i: through_proxy(i, "203.0.113.10"), **proxy)
    assert other == [200, 200]
    # What the proxy wrote is not an address: the proxy's own bucket, never a new one each time.
    garbled = statuses(client, 7, lambda i: [("X-Forwarded-For", f"x{i}")], **proxy)
    assert garbled == [200] * 5 + [429] * 2


def test_an_ipv6_client_is_one_key_for_its_whole_64(make_app: MakeApp) -> None:
    client = make_app({"FEED_RATE_LIMIT": "3/minute"}).test_client()
    own = [statuses(client, 1, REMOTE_ADDR=f"2001:db8:1:2::{i:x}")[0] for i in range(1, 6)]
    assert own == [200, 200, 200, 429, 429]
    assert statuses(client, 1, REMOTE_ADDR="2001:db8:1:3::1") == [200]


# --- Redis: timeouts and failure ----------------------------------------------------------


def test_redis_timeouts_reach_redis_py_connection_pool(make_app: MakeApp) -> None:
    assert config.load({}, "/tmp")["RATELIMIT_REDIS_TIMEOUT"] == 0.25
    assert config.load({"RATELIMIT_REDIS_TIMEOUT": "0.5"}, "/tmp")["RATELIMIT_REDIS_TIMEOUT"] == 0.5
    make_app({"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_REDIS_TIMEOUT": 0.5})
    pool = limiter.storage.storage.connection_pool  # type: ignore[attr-defined]
    assert pool.connection_kwargs["socket_timeout"] == 0.5
    assert pool.connection_kwargs["socket_connect_timeout"] == 0.5
    memory = make_app({"RATELIMIT_STORAGE_URI": "memory://"})
    assert memory.config["RATELIMIT_STORAGE_OPTIONS"] == {}
    with pytest.raises(RuntimeError, match="RATELIMIT_REDIS_TIMEOUT"):
        make_app({"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_REDIS_TIMEOUT": 0})


@pytest.mark.parametrize("redis", ["refused", "silent"])
def test_a_failing_redis_falls_back_to_limits_in_memory(
    make_app: MakeApp, closed_port: int, silent_redis: SilentServer, redis: str
) -> None:
    port = closed_port if redis == "refused" else silent_redis.port
    client = make_app({"RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{port}/0",
                       "FEED_RATE_LIMIT": "3/minute"}).test_client()
    seconds = []
    for _ in range(5):
        started = time.perf_counter()
        seconds.append((statuses(client, 1)[0], time.perf_counter() - started))
    assert [status for status, _ in seconds] == [200, 200, 200, 429, 429]
    assert max(elapsed for _, elapsed in seconds) < 1  # at most two 0.25 s timeouts


def fresh_storage_health() -> None:
    """Flask-Limiter's health-check backoff (1, 2, 4 … 32 s) starts again, as in a new worker.

    The limiter is one object for the whole test session; earlier tests moved its backoff.
    """
    for name, value in (("_Limiter__check_backend_count", 0), ("_Limiter__last_check_backend", 0)):
        assert hasattr(limiter, name), f"Flask-Limiter renamed {name}"
        setattr(limiter, name, value)


def test_limits_move_back_to_redis_when_it_answers_again(make_app: MakeApp) -> None:
    relay = SilentServer(relay_to=("127.0.0.1", 6379))
    try:
        relay.up = False
        app = make_app({"RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{relay.port}/0",
                        "FEED_RATE_LIMIT": "3/minute"})
        client = app.test_client()
        fresh_storage_health()
        assert statuses(client, 1) == [200]  # Redis down: counted in this process's memory
        relay.up = True
        second = client.get(FEED)  # the next health check is 2 s after the failed one
        assert second.headers["X-RateLimit-Remaining"] == "1"
        time.sleep(2.1)
        back = [client.get(FEED) for _ in range(4)]  # a fresh budget: counted in Redis
    finally:
        relay.stop()
    assert [r.headers["X-RateLimit-Remaining"] for r in back] == ["2", "1", "0", "0"]
    assert [r.status_code for r in back] == [200, 200, 200, 429]


# --- real processes: gunicorn workers and hosts -------------------------------------------


class Site:
    """One gunicorn 'host' serving the app."""

    def __init__(self, env: dict[str, str], workers: int, tmp_path: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.access_log = tmp_path / f"access-{self.port}.log"
        self.log = tmp_path / f"gunicorn-{self.port}.log"
        env = {**env, "SITE_URL": self.url, "WEB_CONCURRENCY": str(workers),
               "GUNICORN_BIND": f"127.0.0.1:{self.port}"}
        # No control socket: two hosts would share its one default path, and with it the
        # master takes 5 s to stop.
        command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                   "--no-control-socket", "--access-logfile", str(self.access_log),
                   "--access-logformat", "%(p)s %(s)s", "wsgi:app"]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)

    def wait_until_up(self) -> None:
        """Until it answers at all (/healthz may say 503 or degraded)."""
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text(errors="replace")[-2000:]
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=2).close()
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("gunicorn did not answer within 15 s")

    def worker_pids(self) -> set[str]:
        """The workers that answered, from the access log."""
        return set(re.findall(r"<(\d+)> \d{3}", self.access_log.read_text()))

    def signal_stop(self) -> None:
        """Ask this gunicorn (only the process this test started) to stop now."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # quick shutdown: nothing to drain

    def wait_stopped(self) -> None:
        """Wait for it to stop; kill it if it does not."""
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def start_sites(base_config: dict[str, Any], tmp_path: Path) -> Iterator[Callable[..., list]]:
    """Start gunicorn hosts on the test database with the given limit storage."""
    started: list[Site] = []

    def start(storage_uri: str, hosts: int = 1, workers: int = 4, **extra: str) -> list[Site]:
        env = {**os.environ, "DATABASE_URL": base_config["DATABASE_URL"], "SECRET_KEY": "test",
               "TRUSTED_PROXIES": "0", "RATELIMIT_STORAGE_URI": storage_uri,
               "RATELIMIT_KEY_PREFIX": "mp-" + uuid.uuid4().hex, "FEED_RATE_LIMIT": "20/minute",
               "GUNICORN_TIMEOUT": "30", **extra}
        sites = [Site(env, workers, tmp_path) for _ in range(hosts)]
        started.extend(sites)
        for site in sites:
            site.wait_until_up()
        return sites

    yield start
    for site in started:
        site.signal_stop()
    for site in started:
        site.wait_stopped()


def fetch(url: str) -> tuple[int, float]:
    """One request on a fresh connection (urllib sends Connection: close): status, seconds."""
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    return status, time.perf_counter() - started


def hammer(urls: list[str], threads: int = 6) -> list[tuple[int, float]]:
    """Fetch every URL, `threads` at a time."""
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(fetch, urls))


@pytest.mark.multiprocess
def test_four_workers_share_one_budget_through_redis(start_sites) -> None:
    (site,) = start_sites(REDIS_URL)
    results = hammer([site.url + FEED] * 60)
    assert sorted(status for status, _ in results) == [200] * 20 + [429] * 40
    assert len(site.worker_pids()) > 1, "every request went to one worker"


@pytest.mark.multiprocess
def test_two_hosts_share_one_budget_through_redis(start_sites) -> None:
    first, second = start_sites(REDIS_URL, hosts=2, workers=2)
    urls = [(first, second)[i % 2].url + FEED for i in range(60)]
    results = hammer(urls)
    assert sorted(status for status, _ in results) == [200] * 20 + [429] * 40
    by_host = [[status for (status, _), url in zip(results, urls, strict=True)
                if url.startswith(site.url)] for site in (first, second)]
    assert all(200 in answered and 429 in answered for answered in by_host)


@pytest.mark.multiprocess
@pytest.mark.parametrize("redis", ["refused", "silent"])
def test_workers_answer_in_bounded_time_when_redis_fails(
    start_sites, closed_port: int, silent_redis: SilentServer, redis: str
) -> None:
    port = closed_port if redis == "refused" else silent_redis.port
    (site,) = start_sites(f"redis://127.0.0.1:{port}/0", FEED_RATE_LIMIT="5/minute")
    results = hammer([site.url + FEED] * 40, threads=4)
    answered = sorted(status for status, _ in results)
    latencies = sorted(seconds for _, seconds in results)
    print(f"\nredis {redis}: p50 {latencies[20] * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms,"
          f" {answered.count(200)} × 200, {answered.count(429)} × 429")
    assert set(answered) <= {200, 429}
    assert 5 <= answered.count(200) <= 4 * 5  # each worker limits on its own while Redis is down
    assert latencies[-1] < 2 and latencies[20] < 0.25  # health checks are rare, not per request
    assert fetch(site.url + FEED)[1] < 2 and site.proc.poll() is None
    assert "WORKER TIMEOUT" not in site.log.read_text(errors="replace")
