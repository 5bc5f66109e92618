"""gunicorn settings; workers and threads come from the environment."""

import glob
import multiprocessing
import os
import shutil
import tempfile

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
# One thread: sync workers. Measured against gthread (1, 2 threads) with keep-alive on this
# 2-core machine: equal or better requests/s and a lower p99 (docs/performance.md).
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
# Loading the app before forking shares memory; connection pools are reset after fork below.
preload_app = True


def post_fork(server, worker):  # noqa: ARG001 - gunicorn's hook signature
    """Drop database connections inherited from the master: each worker opens its own."""
    from webapp.extensions import db
    from wsgi import app

    with app.app_context():
        db.engine.dispose(close=False)


def _metrics_dir() -> tuple[str, bool]:
    """PROMETHEUS_MULTIPROC_DIR (a new temporary directory unless given), emptied."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    path = given or tempfile.mkdtemp(prefix="webapp-metrics-")
    os.makedirs(path, exist_ok=True)
    for stale in glob.glob(os.path.join(path, "*.db")):  # counts of a previous run
        os.remove(stale)
    return path, not given


# Every worker writes its Prometheus values to files here; a scrape sums them. This runs when
# gunicorn reads this file, not in on_starting: with preload_app the app, and with it
# prometheus_client (which picks multiprocess mode when imported), loads before on_starting.
METRICS_DIR, _METRICS_DIR_IS_OURS = _metrics_dir()
os.environ["PROMETHEUS_MULTIPROC_DIR"] = METRICS_DIR


def child_exit(server, worker):  # noqa: ARG001 - gunicorn's hook signature
    """Drop a dead worker's live gauges; its counters stay in the sums."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, METRICS_DIR)


def on_exit(server):  # noqa: ARG001 - gunicorn's hook signature
    """Remove the metrics directory if we made it."""
    if _METRICS_DIR_IS_OURS:
        shutil.rmtree(METRICS_DIR, ignore_errors=True)
