"""`gateway db upgrade | purge`: the database schema and the retention purge."""

from __future__ import annotations

import click

from gateway.cli.common import build, migrate


@click.group("db")
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def db_upgrade(revision: str) -> None:
    """Run the migrations up to REVISION on GATEWAY_DATABASE_URL (or the SQLite default)."""
    from gateway.storage.db import upgrade

    svc = build()
    upgrade(svc.engine, revision)
    click.echo(f"database at {revision}")


@db.command("purge")
def db_purge() -> None:
    """Delete document bytes older than GATEWAY_RETENTION_DAYS (reports and rows stay)."""
    from gateway.jobs.purge import purge_documents

    svc = build()
    migrate(svc)
    click.echo(f"purged {purge_documents(svc)} documents")
