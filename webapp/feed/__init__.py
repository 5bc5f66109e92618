"""API clients' side: the rate-limited JSON feed."""
