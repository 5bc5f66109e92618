"""Infobip inbound SMS forwarding (`MO_JSON_2`): several messages per request, HTTP Basic.

- Request: POST JSON `{"results": [{messageId, from, to, text, cleanText, keyword, receivedAt,
  smsCount, price, callbackData}], "messageCount", "pendingMessageCount"}`; numbers are digits
  without `+`; `smsCount` is the number of parts of a long SMS, which Infobip has already joined
  (https://infobip.com/docs/api/channels/sms/inbound-sms/receive-inbound-sms-messages).
  One request may carry several messages: each element of `results` is one InboundSms.
- Verified: HTTP Basic credentials (the subscription's `BASIC` security setting,
  https://infobip.com/docs/api/platform/subscriptions-api/create-security-settings) against
  `INFOBIP_USERNAME` / `INFOBIP_PASSWORD`, both compared in constant time (`basic_auth.py`).
  Nothing is signed with a timestamp: no replay window.
- Reply: 200 with an empty body.
- Idempotency key: `messageId`, per element of `results`.
- Stored: sender `from`, recipient `to`, text `text` (the whole message as the phone shows it;
  `cleanText` is the same without the keyword), segments `smsCount`.

Decisions where the docs leave it open (PROVIDERS.md §3.11, §4):

- The `HMAC` security setting's header and algorithm are not documented: not supported; use
  Basic (plus Infobip's IP allow-list at the proxy).
- Retries are not documented (UNVERIFIED): treated as at-least-once, hence the key.
- One malformed element refuses the whole request (400), so a request is stored entirely or not
  at all and nothing half-read is acknowledged. An empty `results` array stores nothing.
- `smsCount` must be an integer from 1 to 255 when present.
"""

from __future__ import annotations

from typing import Any

from .base import InboundSms, PayloadError, Reply, WebhookRequest, require
from .basic_auth import BasicAuthVerifier
from .forms import segment_count, strict_json


def _results(payload: Any) -> list[Any]:
    """The `results` array of the body."""
    if not isinstance(payload, dict):
        raise PayloadError("body must be a JSON object with a results array")
    results = payload.get("results")
    if not isinstance(results, list):
        raise PayloadError("missing array: results")
    return results




def _inbound(result: Any, where: str) -> InboundSms:
    """One element of `results` as a message."""
    if not isinstance(result, dict):
        raise PayloadError(f"{where} must be a JSON object")
    text = result.get("text")
    if not isinstance(text, str):
        raise PayloadError(f"missing field: {where}.text")
    return InboundSms(
        provider_id=require(result.get("messageId"), f"{where}.messageId"),
        sender=require(result.get("from"), f"{where}.from"),
        recipient=require(result.get("to"), f"{where}.to"),
        text=text,
        segments=segment_count(result.get("smsCount"), f"{where}.smsCount"),
    )


class InfobipProvider(BasicAuthVerifier):
    """Infobip MO forwarding: Basic credentials, one message per element of `results`."""

    name = "infobip"
    secret_names = ("INFOBIP_USERNAME", "INFOBIP_PASSWORD")

    def parse(self, request: WebhookRequest) -> list[InboundSms]:
        """Every message of `results`, in order."""
        results = _results(strict_json(request.body))
        return [_inbound(result, f"results[{i}]") for i, result in enumerate(results)]

    def reply(self) -> Reply:
        """An empty 200."""
        return Reply()


ADAPTER = InfobipProvider()
