"""SignalWire compatibility (cXML) messaging webhooks: Twilio's scheme keyed with the Signing Key.

- Request: POST form (or GET, parameters in the query) with `MessageSid` (a UUID), `AccountSid`,
  `From`, `To`, `Body`, `NumMedia`, `MediaUrl{N}`; numbers E.164 with `+`
  (https://developer.signalwire.com/compatibility-api/xml/messaging).
- Verified: `X-SignalWire-Signature` (SignalWire also sends the same value as the legacy
  `X-Twilio-Signature`, read only when the first is absent) = base64 HMAC-SHA1 keyed with
  `SIGNALWIRE_SIGNING_KEY` over the public URL (`SITE_URL` + raw path and query) followed by the
  POST parameters sorted by name as name+value; the URL is also tried with and without its
  default port. This is Twilio's algorithm (`twilio.TwilioProvider`, reused by subclassing);
  its official vector is Twilio's. No timestamp is signed: no replay window, retries are
  deduplicated by `MessageSid`.
- Reply: 200 with an empty cXML document `<Response/>` as `text/xml` (plain text could be sent
  back to the sender as an SMS).
- Idempotency key: `MessageSid`.

Decisions where the docs are silent or open (PROVIDERS.md §3.2, §4):

- SignalWire's SDK validator also accepts its RELAY/JSON scheme, hex HMAC-SHA1(key, URL + raw
  body), and a form signature computed over the URL alone. This route refuses both: messaging
  webhooks are cXML form posts, and accepting a second encoding of the same HMAC lets a captured
  form signature, re-encoded as hex, vouch for a body made of its own signed string (the
  message text is attacker-chosen, so that body can carry forged fields).
- `X-SignalWire-SHA256-Signature` (UNVERIFIED, no documented algorithm) is ignored.
- Retry policy (UNVERIFIED): treated as at-least-once, hence the idempotency key.
"""

from __future__ import annotations

from .twilio import TwilioProvider


class SignalWireProvider(TwilioProvider):
    """SignalWire cXML messaging: Twilio's signature, SignalWire's header and Signing Key."""

    name = "signalwire"
    secret_names = ("SIGNALWIRE_SIGNING_KEY",)
    signature_headers = ("X-SignalWire-Signature", "X-Twilio-Signature")


ADAPTER = SignalWireProvider()
