"""The operators' CLI: thin wrappers over the services, run as `flask --app wsgi <command>`.

Every refusal is a `click.ClickException`: the reason on stderr, exit status 1.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from . import apikeys, demo, retention
from .numbers import queries, service
from .timeutil import as_utc

numbers_cli = AppGroup("numbers", help="Provision, import, list and retire numbers.")
messages_cli = AppGroup("messages", help="Maintain stored messages.")
apikeys_cli = AppGroup("apikeys", help="API keys for feed clients with higher limits.")


def register(app: Flask) -> None:
    """Add the operators' commands to `flask`."""
    for command in (numbers_cli, messages_cli, apikeys_cli, demo_command):
        app.cli.add_command(command)


def when(value: datetime | None) -> str:
    """A stored time as operators read it, in UTC; "never" for none."""
    return as_utc(value).strftime("%Y-%m-%d %H:%M:%S UTC") if value else "never"


def echo_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """Print rows as left-aligned columns under a header line."""
    table = [list(headers), *[list(row) for row in rows]]
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    for row in table:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        click.echo("  ".join(cells).rstrip())


# numbers ------------------------------------------------------------------------------------


@numbers_cli.command("add")
@click.argument("number")
@click.option("--provider", help="The provider whose webhook delivers this number's messages.")
def add_number(number: str, provider: str | None) -> None:
    """Provision one number (any international spelling: +44 7400 123456, 0044…)."""
    try:
        stored = service.provision(number, provider)
    except service.ProvisioningError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"provisioned {stored.e164} ({stored.country}, provider {stored.provider or '-'})")


def refusal_report(refused: Sequence[service.Refusal]) -> None:
    """Print every refused row with its line and reason to stderr."""
    for row in refused:
        click.echo(f"line {row.line}: {row.text!r}: {row.reason}", err=True)


def read_import_file(path: Path) -> list[service.CsvRow]:
    """The rows of an import file; ClickException when it cannot be read as UTF-8 CSV."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as lines:
            return service.csv_rows(lines)
    except UnicodeDecodeError:
        raise click.ClickException(f"{path} is not UTF-8 text") from None
    except service.ProvisioningError as exc:
        raise click.ClickException(f"{path}: {exc}") from None


@numbers_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_numbers(path: Path) -> None:
    """Provision every number of a `number[,provider]` CSV, or none if a row is refused."""
    rows = read_import_file(path)
    if not rows:
        raise click.ClickException(f"{path} holds no numbers")
    with click.progressbar(rows, label="Checking numbers", file=sys.stderr) as progress:
        numbers, refused = service.check_rows(progress)
    if refused:
        refusal_report(refused)
        raise click.ClickException(
            f"{len(refused)} of {len(rows)} rows refused; nothing imported"
        )
    try:
        count = service.provision_all(numbers)
    except service.ProvisioningError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"imported {count} numbers")


@numbers_cli.command("list")
@click.option("--country", help="Only numbers of this ISO 3166-1 alpha-2 region (GB, US, …).")
def list_numbers(country: str | None) -> None:
    """Every number with its country, provider, status and last message time."""
    if country is not None and not re.fullmatch(r"[A-Za-z]{2}", country):
        raise click.ClickException(f"{country!r} is not a two-letter country code")
    numbers = queries.all_numbers(country)
    if not numbers:
        click.echo(f"no numbers in {country.upper()}" if country else "no numbers")
        return
    echo_table(
        ("NUMBER", "COUNTRY", "PROVIDER", "STATUS", "LAST MESSAGE"),
        ((n.e164, n.country, n.provider or "-", n.status, when(n.last_message_at))
         for n in numbers),
    )


@numbers_cli.command("retire")
@click.argument("number")
def retire_number(number: str) -> None:
    """Retire a number: it leaves every listing and its page answers 410."""
    try:
        retired = service.retire(number)
    except service.ProvisioningError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"retired {retired.e164}")


@numbers_cli.command("unrouted")
def list_unrouted() -> None:
    """Numbers that received messages without being provisioned, most messages first."""
    rows = queries.unrouted_recipients()
    if not rows:
        click.echo("no unrouted messages")
        return
    echo_table(
        ("RECIPIENT", "MESSAGES", "LAST MESSAGE"),
        ((row.recipient, str(row.messages), when(row.last_received_at)) for row in rows),
    )


# messages -----------------------------------------------------------------------------------


@messages_cli.command("purge")
@click.option("--older-than", "older_than", metavar="AGE",
              help="Age like 90m, 12h, 30d or 2w; default: MESSAGE_RETENTION_DAYS days.")
def purge_messages(older_than: str | None) -> None:
    """Delete messages (and parts of long ones) received longer ago than the retention."""
    text = older_than or f"{current_app.config['MESSAGE_RETENTION_DAYS']}d"
    try:
        result = retention.purge_older_than(retention.parse_age(text))
    except retention.RetentionError as exc:
        raise click.ClickException(f"--older-than: {exc}") from None
    click.echo(
        f"deleted {result.messages} messages and {result.parts} message parts "
        f"received before {when(result.cutoff)}"
    )


# apikeys ------------------------------------------------------------------------------------


@apikeys_cli.command("create")
@click.argument("name")
def create_key(name: str) -> None:
    """Create a key and show it, once."""
    try:
        key, plain = apikeys.create_key(name)
    except apikeys.ApiKeyError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"API key for {key.name!r}, shown this once: only its hash is stored, so it "
               "cannot be shown again. Give it to the client now.", err=True)
    click.echo(plain)


@apikeys_cli.command("list")
def list_keys() -> None:
    """Every key's name, creation time and status (never the key)."""
    keys = apikeys.list_keys()
    if not keys:
        click.echo("no API keys")
        return
    echo_table(
        ("NAME", "CREATED", "STATUS"),
        ((k.name, when(k.created_at), f"revoked {when(k.revoked_at)}" if k.revoked_at else "active")
         for k in keys),
    )


@apikeys_cli.command("revoke")
@click.argument("name")
def revoke_key(name: str) -> None:
    """Revoke a key: its client falls back to the anonymous limits."""
    try:
        key = apikeys.revoke_key(name)
    except apikeys.ApiKeyError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"revoked {key.name}")


# demo ---------------------------------------------------------------------------------------


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Provision demo numbers and post sample messages through the real webhooks."""
    try:
        summary = demo.run_demo()
    except demo.DemoError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"provisioned {summary.numbers} numbers in {summary.countries} countries "
        f"({summary.new_numbers} new), posted {summary.messages} messages "
        f"({summary.new_messages} new)"
    )
