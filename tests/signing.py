"""Build correctly signed provider requests for tests that need fresh ones (retries, load)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlencode

from standardwebhooks.webhooks import Webhook

from webapp.providers.twilio import signature as twilio_signature

SECRETS = {
    "TWILIO_AUTH_TOKEN": "7c1f5a2be3d94a60b8c2d1e4f5a6b7c8",
    "GENERIC_WEBHOOK_SECRET": "whsec_1wqE64Hnv8A7U9/bb9Ov6G9AZXqX88Tc",
}


@dataclass(frozen=True)
class SignedRequest:
    """A request ready to send: method, path (with query), headers and body bytes."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def twilio(site_url: str, msg_id: str, sender: str, to: str, text: str) -> SignedRequest:
    """A Twilio form POST signed with the test auth token."""
    params = [("MessageSid", msg_id), ("From", sender), ("To", to), ("Body", text),
              ("NumSegments", "1")]
    sig = twilio_signature(SECRETS["TWILIO_AUTH_TOKEN"], site_url + "/webhooks/twilio", params)
    return SignedRequest("POST", "/webhooks/twilio", {
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sig,
    }, urlencode(params).encode())


def generic(site_url: str, msg_id: str, sender: str, to: str, text: str,
            now: float | None = None) -> SignedRequest:
    """A Standard Webhooks delivery signed with the first test secret."""
    del site_url  # the scheme does not sign the URL
    moment = datetime.fromtimestamp(int(now or time.time()), tz=UTC)
    body = json.dumps({"type": "sms.received", "timestamp": moment.isoformat(),
                       "data": {"id": msg_id, "from": sender, "to": to, "text": text}})
    event_id = "msg_" + msg_id
    sig = Webhook(SECRETS["GENERIC_WEBHOOK_SECRET"]).sign(event_id, moment, body)
    return SignedRequest("POST", "/webhooks/generic", {
        "Content-Type": "application/json", "webhook-id": event_id,
        "webhook-timestamp": str(int(moment.timestamp())), "webhook-signature": sig,
    }, body.encode())


#: provider route → (signer, number provisioned for it)
SIGNERS = {
    "twilio": (twilio, "+14155552671"),
    "generic": (generic, "+34612345678"),
}
