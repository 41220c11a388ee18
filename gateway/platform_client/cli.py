"""`gateway registry ...` (local registry) and `gateway platform-sim` (the simulator)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from sqlalchemy import Engine

from gateway.config import Settings
from gateway.domain import LookupStatus


def _engine(database_url: str | None) -> Engine:
    from sqlalchemy import create_engine

    url = database_url or Settings.from_env().effective_database_url
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return create_engine(url)


_DB_OPTION = click.option(
    "--database-url",
    envvar="GATEWAY_DATABASE_URL",
    default=None,
    help="Database of the local registry (default: the gateway's database).",
)


@click.group("registry")
def registry() -> None:
    """The local registry: registrations imported from the exporter's own records."""


@registry.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_DB_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def import_command(file: Path, database_url: str | None, as_json: bool) -> None:
    """Import a CSV/XLSX registry export (upsert; re-importing changes nothing).

    Exits with status 1 when rows were rejected, 2 when the file cannot be read.
    """
    from gateway.platform_client.importer import RegistryFileError
    from gateway.platform_client.local import LocalRegistry, import_registry_file

    engine = _engine(database_url)
    LocalRegistry(engine).create_tables()
    try:
        result = import_registry_file(file, engine)
    except RegistryFileError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    if as_json:
        body = {
            "inserted": result.inserted,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "rejected": [{"row": row, "reason": reason} for row, reason in result.rejected],
            "columns": dict(result.columns),
        }
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        click.echo(
            f"{file.name}: {result.inserted} inserted, {result.updated} updated, "
            f"{result.unchanged} unchanged, {len(result.rejected)} rejected"
        )
        for row, reason in result.rejected:
            click.echo(f"  row {row}: {reason}")
    if result.rejected:
        sys.exit(1)


@registry.command("lookup")
@click.argument("codes", nargs=-1, required=True)
@_DB_OPTION
@click.option(
    "--file",
    "registry_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Look up in this CSV/XLSX export instead of the database.",
)
def lookup_command(
    codes: tuple[str, ...], database_url: str | None, registry_file: Path | None
) -> None:
    """Look up CODES (element strings, Digital Links, GB codes or keys) in the local registry.

    Exits with status 1 unless every code is found.
    """
    from gateway.platform_client.contract import record_to_wire
    from gateway.platform_client.keys import decode_key
    from gateway.platform_client.local import InMemoryRegistry, LocalRegistry

    client = (
        InMemoryRegistry.from_file(registry_file)
        if registry_file
        else LocalRegistry(_engine(database_url))
    )
    keys = {code: decode_key(code) for code in codes}
    answers = client.lookup([k.key for k in keys.values() if k.key])
    all_found = True
    for code, decoded in keys.items():
        if decoded.key is None:
            body: dict[str, object] = {"code": code, "status": "invalid", "reason": decoded.problem}
            all_found = False
        else:
            answer = answers[decoded.key]
            all_found &= answer.status == LookupStatus.FOUND
            body = {"code": code, "key": decoded.key, "status": answer.status.value}
            if answer.reason:
                body["reason"] = answer.reason
            if answer.record is not None:
                body["record"] = record_to_wire(answer.record)
        click.echo(json.dumps(body, ensure_ascii=False))
    if not all_found:
        sys.exit(1)


@click.command("platform-sim")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8700, show_default=True, type=int)
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of data and faults.")
@click.option("--size", default=60, show_default=True, type=int, help="Records to generate.")
@click.option(
    "--data",
    "data_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Serve the records of this CSV/XLSX registry export instead of generated ones.",
)
@click.option("--faults", default="", help='Fault spec, e.g. "error=0.2,rate_limit=0.1".')
@click.option("--token", envvar="GATEWAY_PLATFORM_TOKEN", default="", help="Require this token.")
def platform_sim(
    host: str, port: int, seed: int, size: int, data_file: Path | None, faults: str, token: str
) -> None:
    """Serve the simulated platform (assumed v1 contract) until interrupted."""
    from dataclasses import replace

    from werkzeug.serving import run_simple

    from gateway.platform_client.importer import read_registry_file
    from gateway.platform_client.simdata import SimData, generate
    from gateway.platform_client.simulator import FaultSpec, create_simulator_app

    try:
        spec = FaultSpec.parse(faults)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--faults") from None
    if data_file is not None:
        rows = read_registry_file(data_file)
        for row, reason in rows.rejected:
            click.echo(f"{data_file.name} row {row} skipped: {reason}", err=True)
        records = tuple(replace(r.record, source="simulator") for r in rows.rows)
        data = SimData(records, frozenset(), seed)
    else:
        data = generate(seed, size)
    app = create_simulator_app(data, spec, token)
    click.echo(
        f"platform simulator: {len(data.records)} records, faults {faults or 'none'}", err=True
    )
    run_simple(host, port, app, threaded=True)
