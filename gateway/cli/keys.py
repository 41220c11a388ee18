"""`gateway keys create | revoke`: API keys of a tenant."""

from __future__ import annotations

from typing import Any

import click

from gateway.cli.common import build, migrate


@click.group("keys")
def keys() -> None:
    """API keys."""


def _tenant_id(session: Any, admin: Any, tenant: str) -> str:
    from gateway.storage.models import Tenant

    row = admin.tenant_by_name(tenant) or session.get(Tenant, tenant)
    if row is None:
        msg = f"No tenant named or with id {tenant!r}; see `gateway tenants list`."
        raise click.ClickException(msg)
    return str(row.id)


@keys.command("create")
@click.argument("tenant")
@click.option("--label", default="", help="A note to recognise the key by.")
def keys_create(tenant: str, label: str) -> None:
    """Create an API key for TENANT (name or id). The key is printed once and never stored."""
    from gateway.storage.repo import Admin

    svc = build()
    migrate(svc)
    with svc.sessions.begin() as session:
        admin = Admin(session, svc.pepper)
        row, key = admin.create_key(_tenant_id(session, admin, tenant), label)
        click.echo(f"key id: {row.id}", err=True)
        click.echo(key)


@keys.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id: str) -> None:
    """Revoke the key whose id is KEY_ID (the part between `gw_` and the next `_`)."""
    from gateway.errors import NotFound
    from gateway.storage.repo import Admin

    svc = build()
    parts = key_id.split("_")
    if len(parts) >= 3 and parts[0] == "gw":  # a whole key was pasted: use its id only
        key_id = parts[1]
    try:
        with svc.sessions.begin() as session:
            Admin(session, svc.pepper).revoke_key(key_id)
    except NotFound as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"revoked {key_id}")
