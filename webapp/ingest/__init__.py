"""Carriers' side: webhook routes, verification and the one writer of messages."""
