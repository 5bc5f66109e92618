"""Benchmark: the site against a minimal raw WSGI ceiling, on SQLite and PostgreSQL + Redis.

Usage:  .venv/bin/python bench/run.py [--quick] [--databases sqlite,postgres]
        [--messages 1000000] [--numbers 10000] [--seconds 6] [--rounds 3] [--concurrency 1,8,32]
        [--pg-url postgresql://postgres@127.0.0.1:5432/test]
        [--redis-url redis://127.0.0.1:6379/0] [--json results.json]

For each database: fill it with bench/generate.py (one data set serves both programs),
start the site (gunicorn.conf.py, 2 workers) and the ceiling (bench/ceiling.py under the
same gunicorn worker settings), and drive every endpoint at every concurrency with wrk,
site then ceiling. Then the number page of a copy holding 10 000 messages against the
full one. Prints requests/s, p50 and p99 of both, the ratio site/ceiling, and which
targets are met. `--quick`: 100 000 messages, 8 connections, 3-second runs (< 3 min).
Loopback only; needs Debian's wrk (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate import HOT_NUMBER, WEBHOOK_NUMBER  # noqa: E402
from bench.harness import (  # noqa: E402
    Database,
    Result,
    Server,
    if_none_match_script,
    wait_for_fresh_minute,
    webhook_script,
    wrk,
)

ENDPOINTS = ("number page", "number page 304", "feed", "webhook")
TARGETS = {"number page": 0.6, "number page 304": 0.5, "feed": 0.5, "webhook": 0.45}
TARGET_CONNECTIONS = 8
P99_LIMIT_MS = 10.0
SMALL = 10_000
DIGITS = HOT_NUMBER.lstrip("+")
PATHS = {"number page": f"/number/{DIGITS}", "number page 304": f"/number/{DIGITS}",
         "feed": f"/api/v1/numbers/{DIGITS}/messages", "webhook": "/webhooks/generic"}


def drive(server: Server, endpoint: str, connections: int, seconds: float) -> Result:
    """One wrk run of an endpoint; for the 304 the ETag is fetched first, in a fresh minute."""
    script = ""
    if endpoint == "number page 304":
        wait_for_fresh_minute(seconds)
        _, headers, _ = server.get(PATHS[endpoint])
        etag = headers["ETag"]
        status, _, _ = server.get(PATHS[endpoint], {"If-None-Match": etag})
        if status != 304:
            raise SystemExit(f"{server.kind}: If-None-Match answered {status}, not 304")
        script = if_none_match_script(etag)
    elif endpoint == "webhook":
        script = webhook_script(WEBHOOK_NUMBER)
    return wrk(server.base + PATHS[endpoint], seconds, connections, script)


def alternate(servers: tuple[Server, Server], endpoint: str, connections: int,
              args: argparse.Namespace) -> dict[str, Result]:
    """Both servers in turns (`--rounds` slices of `--seconds`): the median of each figure.

    Others may load the machine meanwhile; taking turns exposes both programs to the
    same load, and the median drops a slice that a burst of it spoiled.
    """
    runs: dict[str, list[Result]] = {s.kind: [] for s in servers}
    for _ in range(args.rounds):
        for server in servers:
            runs[server.kind].append(drive(server, endpoint, connections, args.slice))
    return {kind: median_result(found) for kind, found in runs.items()}


def median_result(results: list[Result]) -> Result:
    """The median requests/s, p50 and p99 of several runs; errors and requests summed."""
    return Result(
        statistics.median(r.rps for r in results), statistics.median(r.p50 for r in results),
        statistics.median(r.p99 for r in results), sum(r.errors for r in results),
        sum(r.requests for r in results),
    )


def measure(site: Server, ceiling: Server, args: argparse.Namespace) -> dict:
    """Every endpoint at every concurrency, site and ceiling in turns, after a warm-up."""
    results: dict = {}
    for endpoint in ENDPOINTS:
        for server in (site, ceiling):
            drive(server, endpoint, 8, 1)
        for connections in args.concurrency:
            pair = alternate((site, ceiling), endpoint, connections, args)
            results.setdefault(endpoint, {})[connections] = pair
            print(f"  {row(endpoint, connections, pair)}", flush=True)
    return results


def scaling(small: Server, large: Server, args: argparse.Namespace) -> dict:
    """The number page at 8 connections on the small and the large database, in turns."""
    for server in (small, large):
        drive(server, "number page", 8, 1)
    pair = alternate((small, large), "number page", TARGET_CONNECTIONS, args)
    small_rps, large_rps = pair["small"].rps, pair["large"].rps
    return {"small_rps": small_rps, "large_rps": large_rps, "time_ratio": small_rps / large_rps,
            "small_p50": pair["small"].p50, "large_p50": pair["large"].p50}


def backend(kind: str, args: argparse.Namespace, tmp: str) -> dict:
    """Fill, serve, measure and clean up one database and rate-limit storage."""
    made: list[Database] = []
    servers: list[Server] = []
    try:
        def database(name: str) -> Database:
            made.append(Database.sqlite(tmp, name) if kind == "sqlite"
                        else Database.postgres(args.pg_url))
            return made[-1]

        def serve(what: str, db: Database) -> Server:
            env = {"DATABASE_URL": db.url, "RATELIMIT_STORAGE_URI": storage,
                   "FEED_RATE_LIMIT": "100000000/minute", "FEED_RATE_LIMIT_KEYED":
                   "100000000/minute", "WEBHOOK_ALLOW_UNSIGNED": "1", "SECRET_KEY": "bench",
                   "SITE_URL": "http://127.0.0.1"}
            servers.append(Server(what, env, f"{tmp}/{kind}-{what}-{len(servers)}.log").start())
            return servers[-1]

        storage = "memory://" if kind == "sqlite" else args.redis_url
        large = database("large")
        print(f"  {large.fill(args.numbers, args.messages, f'{tmp}/cache')}", flush=True)
        site, ceiling = serve("site", large), serve("ceiling", large)
        sizes = [len(s.get(PATHS["number page"])[2]) for s in (site, ceiling)]
        print(f"  number page bytes: site {sizes[0]}, ceiling {sizes[1]}", flush=True)
        results = measure(site, ceiling, args)
        ceiling.stop()
        small_db = database("small")
        print(f"  {small_db.fill(args.numbers, SMALL, f'{tmp}/cache-small')}", flush=True)
        small = serve("small", small_db)
        site.kind = "large"
        scale = scaling(small, site, args)
        site.kind = "site"
        return {"results": results, "scaling": scale, "page_bytes": sizes}
    finally:
        for server in servers:
            server.stop()
        for db in made:
            db.drop()


def row(endpoint: str, connections: int, pair: dict[str, Result]) -> str:
    """One table row: site and ceiling figures and their ratio."""
    site, ceiling = pair["site"], pair["ceiling"]
    flag = f"  errors {site.errors}/{ceiling.errors}" if site.errors or ceiling.errors else ""
    return (f"{endpoint:<16} {connections:>4} | {site.rps:>8.0f} {site.p50:>6.2f} {site.p99:>6.2f}"
            f" | {ceiling.rps:>8.0f} {ceiling.p50:>6.2f} {ceiling.p99:>6.2f} | "
            f"{site.rps / ceiling.rps:>5.2f}{flag}")


HEADER = (f"{'endpoint':<16} {'conn':>4} | {'site r/s':>8} {'p50':>6} {'p99':>6} | "
          f"{'ceil r/s':>8} {'p50':>6} {'p99':>6} | {'ratio':>5}")


def verdicts(report: dict, messages: int) -> list[str]:
    """Each target at 8 connections, met or not, with the figures."""
    lines = []
    n = TARGET_CONNECTIONS
    for name, found in report.items():
        for endpoint, goal in TARGETS.items():
            pair = found["results"][endpoint].get(n)
            if pair is None:
                continue
            ratio = pair["site"].rps / pair["ceiling"].rps
            lines.append(_verdict(f"{name}: {endpoint} ≥ {goal}× ceiling", ratio >= goal,
                                  f"{ratio:.2f}×"))
            p99 = pair["site"].p99
            lines.append(_verdict(f"{name}: {endpoint} p99 ≤ {P99_LIMIT_MS:g} ms",
                                  p99 <= P99_LIMIT_MS, f"{p99:.2f} ms"))
        scale = found["scaling"]
        lines.append(_verdict(
            f"{name}: number page at {messages:,} messages ≤ 1.2× the time at {SMALL:,}",
            scale["time_ratio"] <= 1.2,
            f"{scale['time_ratio']:.2f}× "
            f"({scale['small_rps']:.0f} vs {scale['large_rps']:.0f} r/s)",
        ))
    if len(report) == 2:
        sqlite, postgres = (report[k]["results"] for k in report)
        for endpoint in ENDPOINTS:
            if n in sqlite[endpoint] and n in postgres[endpoint]:
                ratio = postgres[endpoint][n]["site"].rps / sqlite[endpoint][n]["site"].rps
                lines.append(_verdict(f"PostgreSQL + Redis {endpoint} ≥ 0.8× SQLite",
                                      ratio >= 0.8, f"{ratio:.2f}×"))
    return lines


def _verdict(what: str, met: bool, figure: str) -> str:
    return f"  {'met    ' if met else 'NOT met'}  {what}: {figure}"


def options() -> argparse.Namespace:
    """Command-line options; --quick shrinks the data and the runs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--messages", type=int)
    parser.add_argument("--numbers", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, help="per server and point, in --rounds turns")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    args.messages = args.messages or (100_000 if args.quick else 1_000_000)
    args.seconds = min(args.seconds or (3 if args.quick else 6), 30)
    args.slice = max(1, round(args.seconds / args.rounds))  # wrk takes whole seconds
    args.concurrency = [int(c) for c in (args.concurrency or ("8" if args.quick else "1,8,32"))
                        .split(",")]
    return args


def main() -> None:
    """Run every database, print the tables and the targets."""
    args = options()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk")
    names = {"sqlite": "SQLite + memory://", "postgres": "PostgreSQL + Redis"}
    started = time.monotonic()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start; "
          f"{args.messages:,} messages, {args.numbers:,} numbers", flush=True)
    tmp = tempfile.mkdtemp(prefix="bench-")
    report = {}
    try:
        for kind in args.databases.split(","):
            print(f"\n== {names[kind]} ==\n  {HEADER}", flush=True)
            report[names[kind]] = backend(kind, args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("\nTargets (8 connections):")
    print("\n".join(verdicts(report, args.messages)))
    print(f"\nload average {os.getloadavg()[0]:.2f} at end; "
          f"{time.monotonic() - started:.0f} s in all", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(report, default=asdict, indent=1))


if __name__ == "__main__":
    main()
