"""Build correctly signed provider requests for tests that need fresh ones (retries, load).

`SIGNERS` holds one signer per provider route: `(site_url, msg_id, sender, to, text)` →
a `SignedRequest` in the provider's native format, signed (or authenticated) with `SECRETS`
and timestamped with the real clock. `SECRETS` is the samples' `env` (../shared/webhooks),
so one configuration accepts every provider; Telnyx's key pair is ours, generated at import
(the samples' private half is not published). The signing helpers the signers use are also
what the provider tests import, so each provider's scheme is written once, here.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus, urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from standardwebhooks.webhooks import Webhook

from webapp.providers.android_sms_gateway import signature as android_sms_gateway_signature
from webapp.providers.bird import signature as bird_signature
from webapp.providers.gsm import DEFAULT_ALPHABET, ESCAPE, EXTENSION_TABLE
from webapp.providers.plivo import signature_v3 as plivo_signature_v3
from webapp.providers.sinch import signature as sinch_signature
from webapp.providers.telnyx import signed_content as telnyx_signed_content
from webapp.providers.twilio import signature as twilio_signature
from webapp.providers.vonage import signature as vonage_signature

#: Telnyx signs with the account's private key; ours, since the samples' one is not published.
TELNYX_KEY = Ed25519PrivateKey.generate()

SECRETS = {
    "TWILIO_AUTH_TOKEN": "7c1f5a2be3d94a60b8c2d1e4f5a6b7c8",
    "SIGNALWIRE_SIGNING_KEY": "PSK0f2efcd5620163c66d91154e981289ca38e240c8",
    "VONAGE_SIGNATURE_SECRET": "Q7wd5ec06cc789bfe461be032c3cf38a",
    "VONAGE_SIGNATURE_METHOD": "sha256",
    "PLIVO_AUTH_TOKEN": "787509f8c0ed77be688fc80353a65ee732102f78",
    "TELNYX_PUBLIC_KEY": base64.b64encode(
        TELNYX_KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    ).decode(),
    "SINCH_WEBHOOK_SECRET": "sinch-cb-a4caee6816e872397ba7b0ad",
    "BANDWIDTH_USERNAME": "bw-callbacks",
    "BANDWIDTH_PASSWORD": "Gq87da870e6e5bee5b9e",
    "MESSAGEBIRD_SIGNING_KEY": "e7a83c47203cb5d325290341ce7503861fa6a84fb9c6349117e99157163bb2f3",
    "BIRD_SIGNING_KEY": "bird-8f2f7efee4401eb37d190ffa53823700",
    "INFOBIP_USERNAME": "infobip-mo",
    "INFOBIP_PASSWORD": "Ib78821cd7877444bdb5",
    "KANNEL_TOKEN": "k-728878abc3d79b56f32ecbfe",
    "JASMIN_TOKEN": "j-e8c00638881e2c56116c60c9",
    "ANDROID_SMS_GATEWAY_SIGNING_KEY": "sg8ac78b0d65c583",
    "HTTPSMS_SIGNING_KEY": "hs44ee858a79e35bd7d64e1a9a7156b0",
    # The current and the next key (rotation); deliveries are signed with the first.
    "GENERIC_WEBHOOK_SECRET": (
        "whsec_1wqE64Hnv8A7U9/bb9Ov6G9AZXqX88Tc whsec_20DvcUXw8OVSo9bOdCvplvN/m0Bt0OUv"
    ),
}

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
_GSM_CODES = {char: bytes([code]) for code, char in enumerate(DEFAULT_ALPHABET) if code != ESCAPE}
_GSM_CODES.update({char: bytes([ESCAPE, code]) for code, char in EXTENSION_TABLE.items()})


@dataclass(frozen=True)
class SignedRequest:
    """A request ready to send: method, path (with query), headers and body bytes."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


# --- small helpers ---------------------------------------------------------------------------


def _now() -> int:
    return int(time.time())


def _iso(moment: int) -> str:
    """A unix time as the ISO 8601 UTC timestamp most providers write."""
    return datetime.fromtimestamp(moment, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _digits(number: str) -> str:
    """A number the way providers that drop the `+` write it."""
    return number.removeprefix("+")


def _json(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def gsm7(text: str) -> bytes | None:
    """Text as unpacked GSM 03.38 septets (as SMPP carries them), None if it has no GSM form."""
    try:
        return b"".join(_GSM_CODES[char] for char in text)
    except KeyError:
        return None


# --- the signing schemes (also imported by the provider tests) -----------------------------


def basic_authorization(user: str | bytes, password: str | bytes) -> str:
    """An HTTP Basic `Authorization` header value (Bandwidth, Infobip)."""
    raw = (user if isinstance(user, bytes) else user.encode()) + b":" + (
        password if isinstance(password, bytes) else password.encode())
    return "Basic " + base64.b64encode(raw).decode()


def signalwire_headers(url: str, params: Sequence[tuple[str, str]],
                       key: str = SECRETS["SIGNALWIRE_SIGNING_KEY"]) -> dict[str, str]:
    """SignalWire's signature headers (Twilio's HMAC-SHA1, keyed with the Signing Key)."""
    sig = twilio_signature(key, url, list(params))
    return {"X-SignalWire-Signature": sig, "X-Twilio-Signature": sig}


def vonage_signed(params: Mapping[str, str], method: str = "sha256",
                  secret: str = SECRETS["VONAGE_SIGNATURE_SECRET"]) -> dict[str, str]:
    """Vonage SMS API parameters with their `sig`, upper-case hex as Vonage sends it."""
    return {**params, "sig": vonage_signature(dict(params), secret, method).upper()}


def vonage_messages_token(body: bytes, *, issued_at: int | None = None,
                          key: str = SECRETS["VONAGE_SIGNATURE_SECRET"], algorithm: str = "HS256",
                          **claims: object) -> str:
    """A Vonage Messages JWT for a body (`payload_hash`); a claim given as None is left out."""
    payload = {"iat": _now() if issued_at is None else issued_at, "jti": str(uuid.uuid4()),
               "iss": "Vonage", "payload_hash": hashlib.sha256(body).hexdigest(),
               "api_key": "a1b2c3d4", **claims}
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, key,
                      algorithm=algorithm)


def plivo_v3_headers(params: Sequence[tuple[str, str]], method: str = "POST", *, url: str,
                     nonce: str | None = None,
                     token: str = SECRETS["PLIVO_AUTH_TOKEN"]) -> dict[str, str]:
    """Plivo's V3 signature headers for a request to `url` (POST parameters signed too)."""
    nonce = nonce or str(secrets.randbelow(10**18))
    sig = plivo_signature_v3(token, method, url, list(params) if method == "POST" else [], nonce)
    return {"X-Plivo-Signature-V3": sig, "X-Plivo-Signature-V3-Nonce": nonce}


def telnyx_headers(body: bytes, timestamp: int | None = None,
                   key: Ed25519PrivateKey = TELNYX_KEY) -> dict[str, str]:
    """Telnyx's headers: Ed25519 over `timestamp|body` with our key pair."""
    stamp = str(_now() if timestamp is None else timestamp)
    signature = key.sign(telnyx_signed_content(stamp, body))
    return {"Content-Type": JSON, "telnyx-timestamp": stamp,
            "telnyx-signature-ed25519": base64.b64encode(signature).decode()}


def sinch_headers(body: bytes, timestamp: int | None = None, nonce: str | None = None,
                  secret: str = SECRETS["SINCH_WEBHOOK_SECRET"]) -> dict[str, str]:
    """Sinch's headers: HMAC-SHA256 over `body.nonce.timestamp`."""
    stamp = str(_now() if timestamp is None else timestamp)
    nonce = nonce or uuid.uuid4().hex[:26].upper()  # Sinch's nonces are 26-character ULIDs
    return {"Content-Type": JSON,
            "x-sinch-webhook-signature-timestamp": stamp,
            "x-sinch-webhook-signature-nonce": nonce,
            "x-sinch-webhook-signature-algorithm": "HmacSHA256",
            "x-sinch-webhook-signature": sinch_signature(secret, body, nonce, stamp)}


def messagebird_token(url: str, body: bytes = b"", *, issued_at: int | None = None,
                      key: str = SECRETS["MESSAGEBIRD_SIGNING_KEY"], algorithm: str = "HS256",
                      **claims: object) -> str:
    """A MessageBird JWT for a URL (and a body), valid 60 s from `issued_at` (`nbf`)."""
    nbf = _now() if issued_at is None else issued_at
    payload: dict[str, object] = {"iss": "MessageBird", "nbf": nbf, "exp": nbf + 60,
                                  "jti": str(uuid.uuid4()),
                                  "url_hash": hashlib.sha256(url.encode()).hexdigest()}
    if body:
        payload["payload_hash"] = hashlib.sha256(body).hexdigest()
    payload.update(claims)
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, key,
                      algorithm=algorithm)


def bird_headers(body: bytes, timestamp: int | None = None, *, url: str,
                 key: str = SECRETS["BIRD_SIGNING_KEY"]) -> dict[str, str]:
    """Bird's headers: HMAC-SHA256 over `timestamp\\nURL\\nsha256(body)`."""
    stamp = str(_now() if timestamp is None else timestamp)
    return {"Content-Type": JSON, "messagebird-request-timestamp": stamp,
            "messagebird-signature": bird_signature(key, stamp, url, body)}


def android_sms_gateway_headers(
    body: bytes, timestamp: int | None = None,
    key: str = SECRETS["ANDROID_SMS_GATEWAY_SIGNING_KEY"],
) -> dict[str, str]:
    """SMS Gateway for Android's headers: hex HMAC-SHA256 over body + timestamp."""
    stamp = str(_now() if timestamp is None else timestamp)
    return {"Content-Type": JSON, "X-Timestamp": stamp,
            "X-Signature": android_sms_gateway_signature(key, body, stamp)}


def httpsms_token(url: str, *, issued_at: int | None = None,
                  key: str = SECRETS["HTTPSMS_SIGNING_KEY"], algorithm: str = "HS256",
                  **claims: object) -> str:
    """An httpSMS JWT: audience the URL, valid ±10 min around `iat`; a None claim is left out."""
    iat = _now() if issued_at is None else issued_at
    payload = {"iss": "api.httpsms.com", "sub": "WB7DRDWrJZRGbYrv2CKGkqbzvqdC", "aud": [url],
               "exp": iat + 600, "nbf": iat - 600, "iat": iat, **claims}
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, key,
                      algorithm=algorithm)


def kannel_encode(value: str | bytes) -> str:
    """A value as Kannel's octstr_url_encode writes it: bytes as %XX, space as +."""
    return quote_plus(value, safe="")


def kannel_query(text: str | bytes = "Your code is 123456", **fields: str | bytes) -> str:
    """The query of the samples' `get-url` template (token first), for a message of our own."""
    values: dict[str, str | bytes] = {
        "token": SECRETS["KANNEL_TOKEN"], "from": "447400123456", "to": "33612345678",
        "text": text, "coding": "0", "charset": "UTF-8", "ts": "1741944413",
        "smsc": "smpp-orange", "id": str(uuid.uuid4()), "udh": b"",
    }
    values.update(fields)
    return "&".join(f"{name}={kannel_encode(value)}" for name, value in values.items())


def jasmin_body(message: bytes = b"Your OTP is 530981.", coding: int | None = 0,
                with_hex: bool = True, **fields: str | bytes) -> bytes:
    """A form body as Jasmin's thrower encodes it: content percent-encoded, binary in hex."""
    args: dict[str, str | bytes] = {"id": str(uuid.uuid4()), "from": "2348061234567",
                                    "to": "2348031234567", "origin-connector": "mtn-ng-smpp",
                                    "content": message}
    if with_hex:
        args["binary"] = message.hex()
    if coding is not None:
        args["coding"] = str(coding)
    args.update(fields)
    return urlencode(args).encode("ascii")


# --- one signer per provider -----------------------------------------------------------------


def twilio(site_url: str, msg_id: str, sender: str, to: str, text: str) -> SignedRequest:
    """A Twilio form POST signed with the test auth token."""
    params = [("MessageSid", msg_id), ("From", sender), ("To", to), ("Body", text),
              ("NumSegments", "1")]
    sig = twilio_signature(SECRETS["TWILIO_AUTH_TOKEN"], site_url + "/webhooks/twilio", params)
    return SignedRequest("POST", "/webhooks/twilio", {
        "Content-Type": FORM, "X-Twilio-Signature": sig,
    }, urlencode(params).encode())


def signalwire(site_url: str, msg_id: str, sender: str, to: str, text: str) -> SignedRequest:
    """A SignalWire cXML form POST signed with the test Signing Key."""
    path = "/webhooks/signalwire"
    params = [("MessageSid", msg_id), ("AccountSid", "8bcd4147-7825-4068-815d-e858789ea256"),
              ("From", sender), ("To", to), ("Body", text), ("NumMedia", "0")]
    return SignedRequest("POST", path, {"Content-Type": FORM,
                                        **signalwire_headers(site_url + path, params)},
                         urlencode(params).encode())


def vonage(site_url: str, msg_id: str, sender: str, to: str, text: str) -> SignedRequest:
    """A Vonage SMS API form POST with its `sig` (sha256) over a fresh timestamp."""
    del site_url  # `sig` covers the parameters, not the URL
    now = _now()
    params = vonage_signed({
        "msisdn": _digits(sender), "to": _digits(to), "messageId": msg_id, "text": text,
        "type": "text" if gsm7(text) is not None else "unicode",
        "keyword": (text.split() or [""])[0].upper(),
        "message-timestamp": datetime.fromtimestamp(now, tz=UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "timestamp": str(now), "nonce": str(uuid.uuid4()),
    })
    return SignedRequest("POST", "/webhooks/vonage", {
        "Content-Type": FORM + "; charset=UTF-8", "User-Agent": "Nexmo/MessagingHUB/v1.0",
    }, urlencode(params).encode())


def vonage_messages(site_url: str, msg_id: str, sender: str, to: str,
                    text: str) -> SignedRequest:
    """A Vonage Messages API inbound SMS with a fresh JWT over the body."""
    del site_url  # the JWT covers the body, not the URL
    body = _json({"channel": "sms", "message_uuid": msg_id, "to": _digits(to),
                  "from": _digits(sender), "timestamp": _iso(_now())[:19] + "Z", "text": text,
                  "sms": {"num_messages": "1"}, "message_type": "text"})
    return SignedRequest("POST", "/webhooks/vonage-messages", {
        "Content-Type": JSON, "Authorization": "Bearer " + vonage_messages_token(body),
    }, body)


def plivo(site_url: str, msg_id: str, sender: str, to: str, text: str) -> SignedRequest:
    """A Plivo form POST with a V3 signature over the URL and the parameters."""
    path = "/webhooks/plivo"
    params = [("From", _digits(sender)), ("To", _digits(to)), ("Type", "sms"), ("Text", text),
              ("MessageUUID", msg_id), ("TotalRate", "0.00000"), ("TotalAmount", "0.00000"),
              ("Units", "1"), ("MessageIntent", ""), ("PowerpackUUID", "")]
    return SignedRequest("POST", path, {"Content-Type": FORM,
                                        **plivo_v3_headers(params, url=site_url + path)},
                         urlencode(params).encode())


def telnyx(site_url: str, msg_id: str, sender: str, to: str, text: str) -> SignedRequest:
    """A Telnyx `message.received` event signed with our Ed25519 key."""
    path = "/webhooks/telnyx"
    moment = _iso(_now())
    body = _json({
        "data": {
            "event_type": "message.received", "id": str(uuid.uuid4()), "occurred_at": moment,
            "payload": {"cc": [], "direction": "inbound", "encoding": "GSM-7", "errors": [],
                        "from": {"phone_number": sender}, "id": msg_id, "media": [],
                        "parts": 1, "received_at": moment, "record_type": "message",
                        "text": text, "to": [{"phone_number": to, "status": "webhook_delivered"}],
                        "type": "SMS"},
            "record_type": "event",
        },
        "meta": {"attempt": 1, "delivered_to": site_url + path},
    })
    return SignedRequest("POST", path, telnyx_headers(body), body)


def sinch(site_url: str, msg_id: str, sender: str, to: str, text: str) -> SignedRequest:
    """A Sinch `mo_text` callback signed with a fresh nonce and timestamp."""
    del site_url  # the HMAC covers the body, nonce and timestamp, not the URL
    moment = _iso(_now())
    body = _json({"id": msg_id, "from": sender, "to": to, "body": text, "type": "mo_text",
                  "operator_id": "24001", "received_at": moment, "sent_at": moment})
    return SignedRequest("POST", "/webhooks/sinch", sinch_headers(body), body)


def bandwidth(site_url: str, msg_id: str, sender: str, to: str, text: str) -> SignedRequest:
    """A Bandwidth `message-received` callback behind the test Basic credentials."""
    del site_url  # Basic credentials sign nothing
    moment = _iso(_now())
    body = _json([{
        "type": "message-received", "time": moment, "description": "Incoming message received",
        "to": to, "message": {"id": msg_id, "owner": to, "time": moment, "segmentCount": 1,
                              "applicationId": "e8f6582a-b1bd-4324-88e1-7f50b0074fa1",
                              "direction": "in", "to": [to], "from": sender, "text": text},
    }])
    return SignedRequest("POST", "/webhooks/bandwidth", {
        "Content-Type": JSON + "; charset=utf-8",
        "Authorization": basic_authorization(SECRETS["BANDWIDTH_USERNAME"],
                                             SECRETS["BANDWIDTH_PASSWORD"]),
    }, body)


def messagebird(site_url: str, msg_id: str, sender: str, to: str, text: str) -> SignedRequest:
    """A MessageBird GET forward with a fresh JWT over its URL."""
    path = "/webhooks/messagebird?" + urlencode({
        "id": msg_id, "recipient": _digits(to), "originator": _digits(sender), "body": text,
        "createdDatetime": _iso(_now())[:19] + "+00:00",
    })
    return SignedRequest("GET", path, {
        "MessageBird-Signature-JWT": messagebird_token(site_url + path),
    })


def bird(site_url: str, msg_id: str, sender: str, to: str, text: str) -> SignedRequest:
    """A Bird `sms.inbound` event signed over timestamp, URL and body."""
    path = "/webhooks/bird"
    moment = _iso(_now())
    body = _json({"service": "channels", "event": "sms.inbound", "payload": {
        "id": msg_id, "channelId": "04d19ebd-236e-4dcb-91a9-887059f0a287",
        "sender": {"contact": {"id": str(uuid.uuid4()), "identifierKey": "phonenumber",
                               "identifierValue": sender}},
        "receiver": {"connector": {"id": "79343fee-177f-4e48-89bf-8e89a345a5d2",
                                   "identifierValue": to}},
        "body": {"type": "text", "text": {"text": text}},
        "parts": [{"platformReference": uuid.uuid4().hex}], "status": "delivered",
        "direction": "incoming", "lastStatusAt": moment, "createdAt": moment,
        "updatedAt": moment,
    }})
    return SignedRequest("POST", path, bird_headers(body, url=site_url + path), body)


def infobip(site_url: str, msg_id: str, sender: str, to: str, text: str) -> SignedRequest:
    """An Infobip MO_JSON_2 forward of one message behind the test Basic credentials."""
    del site_url  # Basic credentials sign nothing
    body = _json({"results": [{
        "messageId": msg_id, "from": _digits(sender), "to": _digits(to), "text": text,
        "cleanText": text, "keyword": "", "receivedAt": _iso(_now())[:23] + "+0000",
        "smsCount": 1, "price": {"pricePerMessage": 0, "currency": "EUR"},
        "callbackData": None,
    }], "messageCount": 1, "pendingMessageCount": 0})
    return SignedRequest("POST", "/webhooks/infobip", {
        "Content-Type": JSON,
        "Authorization": basic_authorization(SECRETS["INFOBIP_USERNAME"],
                                             SECRETS["INFOBIP_PASSWORD"]),
    }, body)


def kannel(site_url: str, msg_id: str, sender: str, to: str, text: str) -> SignedRequest:
    """A Kannel `get-url` request with the token: 7-bit as UTF-8, else UCS-2 as UTF-16BE."""
    del site_url  # the token is the only secret
    now = _now()
    seven_bit = gsm7(text) is not None
    query = kannel_query(
        text.encode("utf-8" if seven_bit else "utf-16-be"),
        coding="0" if seven_bit else "2", charset="UTF-8" if seven_bit else "UTF-16BE",
        ts=str(now), time=datetime.fromtimestamp(now, tz=UTC).strftime("%Y-%m-%d %H:%M:%S"),
        id=msg_id, **{"from": _digits(sender), "to": _digits(to)},
    )
    return SignedRequest("GET", "/webhooks/kannel?" + query, {"User-Agent": "Kannel/1.5.0"})


def jasmin(site_url: str, msg_id: str, sender: str, to: str, text: str) -> SignedRequest:
    """A Jasmin thrower form POST to the connector URL with the token: GSM 7-bit, else UCS-2."""
    del site_url  # the token is the only secret
    septets = gsm7(text)
    message, coding = (septets, 0) if septets is not None else (text.encode("utf-16-be"), 8)
    body = jasmin_body(message, coding, id=msg_id, priority="0", validity="none",
                       **{"from": _digits(sender), "to": _digits(to)})
    return SignedRequest("POST", "/webhooks/jasmin?token=" + SECRETS["JASMIN_TOKEN"], {
        "Content-Type": FORM, "Accept": "text/plain",
        "User-Agent": "Jasmin gateway/1.0 deliverSmHttpThrower",
    }, body)


def android_sms_gateway(site_url: str, msg_id: str, sender: str, to: str,
                        text: str) -> SignedRequest:
    """An SMS Gateway for Android `sms:received` event signed with the test key."""
    del site_url  # the HMAC covers the body and timestamp, not the URL
    body = _json({"deviceId": "ffffffffceb0b1db0000018e937c815b", "event": "sms:received",
                  "id": msg_id, "payload": {
                      "messageId": uuid.uuid4().hex[:16], "message": text, "sender": sender,
                      "recipient": to, "phoneNumber": sender, "simNumber": 1,
                      "receivedAt": _iso(_now())[:23] + "+00:00"},
                  "webhookId": uuid.uuid4().hex[:21]})
    return SignedRequest("POST", "/webhooks/android-sms-gateway",
                         android_sms_gateway_headers(body), body)


def httpsms(site_url: str, msg_id: str, sender: str, to: str, text: str) -> SignedRequest:
    """An httpSMS `message.phone.received` CloudEvent with a fresh JWT for this URL."""
    path = "/webhooks/httpsms"
    moment = _iso(_now())
    body = _json({
        "specversion": "1.0", "id": str(uuid.uuid4()), "source": "/v1/messages/receive",
        "type": "message.phone.received", "datacontenttype": JSON, "time": moment,
        "data": {"message_id": msg_id, "user_id": "WB7DRDWrJZRGbYrv2CKGkqbzvqdC", "owner": to,
                 "encrypted": False, "contact": sender, "timestamp": moment, "content": text,
                 "sim": "SIM1", "attachments": []},
    })
    return SignedRequest("POST", path, {
        "Content-Type": JSON, "X-Event-Type": "message.phone.received",
        "Authorization": "Bearer " + httpsms_token(site_url + path),
    }, body)


def generic(site_url: str, msg_id: str, sender: str, to: str, text: str,
            now: float | None = None) -> SignedRequest:
    """A Standard Webhooks delivery signed with the first test secret."""
    del site_url  # the scheme does not sign the URL
    moment = datetime.fromtimestamp(int(now or time.time()), tz=UTC)
    body = json.dumps({"type": "sms.received", "timestamp": moment.isoformat(),
                       "data": {"id": msg_id, "from": sender, "to": to, "text": text}})
    event_id = "msg_" + msg_id
    sig = Webhook(SECRETS["GENERIC_WEBHOOK_SECRET"].split()[0]).sign(event_id, moment, body)
    return SignedRequest("POST", "/webhooks/generic", {
        "Content-Type": JSON, "webhook-id": event_id,
        "webhook-timestamp": str(int(moment.timestamp())), "webhook-signature": sig,
    }, body.encode())


Signer = Callable[[str, str, str, str, str], SignedRequest]

#: provider route → (signer, number provisioned for it; ../shared/webhooks/recipients.csv)
SIGNERS: dict[str, tuple[Signer, str]] = {
    "twilio": (twilio, "+14155552671"),
    "signalwire": (signalwire, "+13105551234"),
    "vonage": (vonage, "+447400123456"),
    "vonage-messages": (vonage_messages, "+447400123457"),
    "plivo": (plivo, "+12125551234"),
    "telnyx": (telnyx, "+19195551234"),
    "sinch": (sinch, "+46701234567"),
    "bandwidth": (bandwidth, "+16175551234"),
    "messagebird": (messagebird, "+31612345678"),
    "bird": (bird, "+31612345679"),
    "infobip": (infobip, "+4915112345678"),
    "kannel": (kannel, "+33612345678"),
    "jasmin": (jasmin, "+2348031234567"),
    "android-sms-gateway": (android_sms_gateway, "+4917612345678"),
    "httpsms": (httpsms, "+16465551234"),
    "generic": (generic, "+34612345678"),
}
