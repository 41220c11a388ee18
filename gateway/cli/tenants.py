"""`gateway tenants create | list`: the gateway's customers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from gateway.cli.common import build, migrate


def _load_mapping(path: Path) -> dict[str, Any]:
    import yaml

    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    if not isinstance(data, dict):
        msg = f"Ruleset override {str(path)!r} must hold a mapping, got {type(data).__name__}."
        raise click.BadParameter(msg)
    return data


@click.group("tenants")
def tenants() -> None:
    """Customers of the gateway."""


@tenants.command("create")
@click.argument("name")
@click.option("--language", type=click.Choice(["en", "zh"]), default="en", show_default=True)
@click.option(
    "--ruleset",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON or YAML mapping that overrides the ruleset for this tenant.",
)
@click.option("--webhook-url", help="Called (signed POST) when a report is ready.")
@click.option("--webhook-secret", help="HMAC secret for X-Gateway-Signature.")
def tenants_create(
    name: str,
    language: str,
    ruleset: Path | None,
    webhook_url: str | None,
    webhook_secret: str | None,
) -> None:
    """Create tenant NAME and print its id."""
    from gateway.errors import InputError
    from gateway.mail import check_webhook_url
    from gateway.storage.repo import Admin

    svc = build()
    migrate(svc)
    try:
        if webhook_url:
            check_webhook_url(webhook_url, allow_private=svc.options.webhook_allow_private)
            if not webhook_secret:
                msg = "--webhook-secret is required with --webhook-url."
                raise click.UsageError(msg)
        with svc.sessions.begin() as session:
            tenant = Admin(session, svc.pepper).create_tenant(
                name,
                language=language,
                ruleset_override=_load_mapping(ruleset) if ruleset else None,
                webhook_url=webhook_url,
                webhook_secret=webhook_secret,
            )
            click.echo(f"{tenant.id}\t{tenant.name}")
    except InputError as exc:
        raise click.ClickException(str(exc)) from None


@tenants.command("list")
def tenants_list() -> None:
    """List tenants: id, name, language."""
    from gateway.storage.repo import Admin

    svc = build()
    migrate(svc)
    with svc.sessions() as session:
        for tenant in Admin(session, svc.pepper).tenants():
            click.echo(f"{tenant.id}\t{tenant.name}\t{tenant.language}")
