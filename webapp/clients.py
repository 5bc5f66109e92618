"""Who the client is: its address from the socket peer and what trusted proxies wrote."""

from __future__ import annotations

import ipaddress

from flask import current_app, request

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_address(text: str) -> Address | None:
    """An address as a proxy may write it (quotes, `[v6]`, `:port`, zone id), or None."""
    text = text.strip().strip('"').strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text.partition("%")[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def client_ip(
    peer: str | None, forwarded_for: str | None, hops: int, *, strict: bool = False
) -> Address | None:
    """The client: the `hops`-th X-Forwarded-For entry from the right, else the socket peer.

    Entries are split on every comma, quotes or not: ProxyFix honours quotes, so a client's
    unbalanced `"` would swallow the proxy's entry and make the proxy look like the client.
    `strict`: when proxies are trusted but their entry is missing or garbled, None (unknown)
    rather than the peer, which is the proxy itself.
    """
    entries = (forwarded_for or "").split(",") if hops > 0 else []
    if len(entries) >= hops > 0 and (address := parse_address(entries[-hops])):
        return address
    if strict and hops > 0:
        return None
    return parse_address(peer or "")


def request_client_ip(*, strict: bool = False) -> Address | None:
    """The client of the current request (see `client_ip`), from the unmodified environ."""
    environ = request.environ
    peer = environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR")
    return client_ip(peer or environ.get("REMOTE_ADDR"), environ.get("HTTP_X_FORWARDED_FOR"),
                     current_app.config["TRUSTED_PROXIES"], strict=strict)
