"""gunicorn settings; workers and threads come from the environment."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
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
