"""Provisioning: the one place numbers are added and retired."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import ACTIVE, RETIRED, Number
from ..phone import InvalidNumber, parse_e164, region_of
from ..providers import PROVIDERS
from ..timeutil import utcnow


class ProvisioningError(ValueError):
    """A number that cannot be provisioned or retired, with the reason."""


def check_provider(provider: str | None) -> str | None:
    """The provider name if it is one of ours (or None)."""
    if provider and provider not in PROVIDERS:
        known = ", ".join(sorted(PROVIDERS))
        raise ProvisioningError(f"unknown provider {provider!r}; known: {known}")
    return provider or None


def new_number(text: str, provider: str | None = None) -> Number:
    """A validated, not yet stored Number; refuses invalid and duplicate numbers."""
    try:
        e164 = parse_e164(text)
    except InvalidNumber as exc:
        raise ProvisioningError(str(exc)) from None
    provider = check_provider(provider)
    if db.session.scalar(select(Number.id).where(Number.e164 == e164)) is not None:
        raise ProvisioningError(f"{e164} is already provisioned")
    return Number(e164=e164, country=region_of(e164), provider=provider, status=ACTIVE)


def provision(text: str, provider: str | None = None) -> Number:
    """Provision and commit one number."""
    number = new_number(text, provider)
    db.session.add(number)
    db.session.commit()
    return number


def retire(text: str) -> Number:
    """Retire a provisioned number: it leaves every listing, its page answers 410."""
    try:
        e164 = parse_e164(text)
    except InvalidNumber as exc:
        raise ProvisioningError(str(exc)) from None
    number = db.session.scalar(select(Number).where(Number.e164 == e164))
    if number is None:
        raise ProvisioningError(f"{e164} is not provisioned")
    if number.status == RETIRED:
        raise ProvisioningError(f"{e164} is already retired")
    number.status = RETIRED
    number.retired_at = utcnow()
    db.session.commit()
    return number
