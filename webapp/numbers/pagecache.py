"""Rendered pages kept for reuse: a small least-recently-used cache per app and process.

A page is a function of its URL and its ETag: that is the contract `Cache-Control: public`
already gives every CDN in front of the site, and the ETag holds what changes a page (the
number, its newest message id, the cursor, the votes, the language, the settings and the
minute, since "5 minutes ago" moves with it). So a page rendered once is served again, byte
for byte, to every request with the same URL and ETag, without loading a single message,
until the ETag moves on. The home and country pages are kept the same way, and the feed
its JSON: its ETag holds the number, its newest and the oldest stored message id and the
query, which fix the body exactly. Measured in docs/performance.md.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from flask import current_app

T = TypeVar("T")

#: Pages kept per app and process (a number page is ~65 kB).
SIZE = 256


class PageCache:
    """Least-recently-used values by key, safe under gunicorn's threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_render(self, key: Hashable, render: Callable[[], T]) -> T:
        """The value kept for `key`, else `render()`'s, kept for next time."""
        with self._lock:
            text = self._items.get(key)
            if text is not None:
                self._items.move_to_end(key)
                return text
        text = render()
        with self._lock:
            self._items[key] = text
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return text


def cached_page(url: str, etag: str, render: Callable[[], T]) -> T:
    """The page of `url` at version `etag`: rendered once, then reused (per app, per process)."""
    cache = current_app.extensions.get("page_cache")
    if cache is None:
        cache = current_app.extensions["page_cache"] = PageCache(SIZE)
    return cache.get_or_render((url, etag), render)
