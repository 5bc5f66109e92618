"""tests/signing.py: every provider has a signer whose fresh requests the site accepts once."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.signing import SECRETS, SIGNERS, SignedRequest
from tests.test_webhooks import stored_messages
from webapp.numbers.service import provision
from webapp.phone import parse_e164
from webapp.providers import PROVIDERS

SITE_URL = "https://sms.example.com"
SENDER = "+447911123456"
TEXTS = {
    "ascii": "Your code is 482913",
    "unicode": "Dein Code für Zalando: 000102 – gültig 5 € ✓ 🔐",
}


def send(app: Flask, req: SignedRequest):
    """Send a signed request through the test client exactly as built."""
    return app.test_client().open(req.path, method=req.method, headers=req.headers,
                                  data=req.body)


def test_every_provider_has_a_signer_and_nothing_else_does() -> None:
    assert sorted(SIGNERS) == sorted(PROVIDERS)


def test_signer_numbers_are_distinct_valid_e164() -> None:
    numbers = [number for _signer, number in SIGNERS.values()]
    assert len(set(numbers)) == len(numbers)
    assert all(parse_e164(number) == number for number in numbers)


def test_secrets_configure_every_provider() -> None:
    missing = {name for adapter in PROVIDERS.values() for name in adapter.secret_names} - set(
        SECRETS)
    assert not missing


@pytest.mark.parametrize("text", TEXTS.values(), ids=TEXTS.keys())
@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_fresh_signed_request_is_stored_once(make_app, provider: str, text: str) -> None:
    assert provider in SIGNERS, f"tests/signing.py has no signer for {provider}"
    signer, number = SIGNERS[provider]
    app = make_app({**SECRETS, "SITE_URL": SITE_URL})
    with app.app_context():
        provision(number, provider)
    req = signer(SITE_URL, f"sig-{provider}-1", SENDER, number, text)

    first = send(app, req)
    assert 200 <= first.status_code < 300, first.get_data(as_text=True)
    [row] = stored_messages(app)
    assert (row.provider, row.provider_id, row.body, row.sender, row.recipient) == (
        provider, f"sig-{provider}-1", text, SENDER, number)
    assert row.number_id is not None

    again = send(app, req)
    assert 200 <= again.status_code < 300, again.get_data(as_text=True)
    assert len(stored_messages(app)) == 1
