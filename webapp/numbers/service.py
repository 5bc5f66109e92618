"""Provisioning: the one place numbers are added and retired."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

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
    country = region_of(e164)
    if len(country) != 2:  # "001": +800 and other numbers of no country have no page to be on
        raise ProvisioningError(f"{e164} belongs to no country (non-geographic number)")
    if db.session.scalar(select(Number.id).where(Number.e164 == e164)) is not None:
        raise ProvisioningError(f"{e164} is already provisioned")
    return Number(e164=e164, country=country, provider=provider, status=ACTIVE)


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



# Bulk import: every row is checked first, then all are stored in one transaction, or none.

_HEADERS = {("number",), ("number", "provider")}


@dataclass(frozen=True)
class CsvRow:
    """One non-blank row of an import file and the line it ends on."""

    line: int
    cells: tuple[str, ...]


@dataclass(frozen=True)
class Refusal:
    """A row that cannot be imported, and why."""

    line: int
    text: str
    reason: str


def csv_rows(lines: Iterable[str]) -> list[CsvRow]:
    """The non-blank rows of a `number[,provider]` CSV; a header before the first row is dropped."""
    reader = csv.reader(lines)
    rows: list[CsvRow] = []
    seen_any = False
    try:
        for cells in reader:
            stripped = tuple(cell.strip() for cell in cells)
            if not any(stripped):
                continue
            header = not seen_any and tuple(c.lower() for c in stripped) in _HEADERS
            seen_any = True
            if not header:
                rows.append(CsvRow(reader.line_num, stripped))
    except csv.Error as exc:
        raise ProvisioningError(f"line {reader.line_num}: unreadable CSV: {exc}") from None
    return rows


def check_row(row: CsvRow, seen: dict[str, int]) -> Number:
    """The unsaved Number of a row; refuses bad shapes, bad numbers and duplicates (file or DB)."""
    if len(row.cells) > 2:
        raise ProvisioningError(f"expected number[,provider], found {len(row.cells)} columns")
    if not row.cells[0]:
        raise ProvisioningError("the number is missing")
    number = new_number(row.cells[0], row.cells[1] if len(row.cells) > 1 else None)
    if number.e164 in seen:
        raise ProvisioningError(f"{number.e164} already appears on line {seen[number.e164]}")
    seen[number.e164] = row.line
    return number


def check_rows(rows: Iterable[CsvRow]) -> tuple[list[Number], list[Refusal]]:
    """The Numbers to store and every row refused; nothing is written."""
    seen: dict[str, int] = {}
    numbers: list[Number] = []
    refused: list[Refusal] = []
    for row in rows:
        try:
            numbers.append(check_row(row, seen))
        except ProvisioningError as exc:
            refused.append(Refusal(row.line, ",".join(row.cells), str(exc)))
    return numbers, refused


def provision_all(numbers: list[Number]) -> int:
    """Store checked numbers in one transaction: all of them, or none if one was taken meanwhile."""
    db.session.add_all(numbers)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ProvisioningError(
            "a number was provisioned by someone else meanwhile; nothing imported, retry"
        ) from None
    return len(numbers)
