"""`gateway demo`: the embedded default with a demo tenant, its key and sample data."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from gateway.cli.common import build, migrate
from gateway.cli.serve import run_gunicorn
from gateway.config import Settings
from gateway.domain import RegistrationRecord
from gateway.services import Services


def _demo_key(svc: Services, folder: Path) -> str:
    """The demo tenant's key: reused while still valid, else a new one (kept mode 0600)."""
    from gateway.storage.repo import Admin

    path = folder / "demo-key.txt"
    with svc.sessions.begin() as session:
        admin = Admin(session, svc.pepper)
        tenant = admin.tenant_by_name("demo") or admin.create_tenant("demo")
        if path.exists():
            key = path.read_text().strip()
            principal = admin.authenticate(key)
            if principal is not None and principal.tenant_id == tenant.id:
                return key
        _row, key = admin.create_key(tenant.id, "demo")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


def _demo_samples(svc: Services, folder: Path) -> list[str]:
    """Import the sample registry and write sample documents, shipments and label photos."""
    from gateway.platform_client.local import import_registry_file
    from samples import manifests, registry, shipments

    notes = []
    samples_dir = folder / "samples"
    paths = registry.write_samples(samples_dir / "registry")
    result = import_registry_file(paths[0], svc.engine)
    notes.append(f"registry: {result.inserted} new, {result.unchanged} unchanged records")
    # shipments whose registrations are known: a demo upload shows clear, hold and block
    records: list[RegistrationRecord] = []
    for make in (
        shipments.clean_to_germany,
        shipments.problems_to_germany,
        shipments.ess_by_air,
    ):
        sample = make()
        for item in sample.documents:
            target = samples_dir / "shipments" / f"{sample.name}.xlsx"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(item.data)
        records.extend(sample.records)
    # label photos of registered units of the clear shipment: what a warehouse uploads
    # with its packing list, or a scanner posts to /v1/scans
    labels = samples_dir / "labels"
    labels.mkdir(parents=True, exist_ok=True)
    clean = shipments.clean_to_germany()
    for record in clean.records[:3]:
        hri = record.gs1_element_string or ""
        photo = shipments.label_photo([("gs1-128", hri), ("gs1-datamatrix", hri)])
        (labels / f"label_{record.serial}.png").write_bytes(photo)
    registry_file = samples_dir / "registry" / "demo-shipments.csv"
    registry_file.parent.mkdir(parents=True, exist_ok=True)
    registry_file.write_bytes(shipments.registry_csv(records))
    result = import_registry_file(registry_file, svc.engine)
    notes.append(
        f"sample shipments: {samples_dir / 'shipments'} ({result.inserted} new registrations);"
        f" label photos of their units: {labels}"
    )
    # how each format is read; their units are of no registry, so they show "not registered"
    written = manifests.write_samples(samples_dir / "formats")
    notes.append(
        f"format samples (their units are not registered): {len(written)} in "
        f"{samples_dir / 'formats'}"
    )
    return notes


@click.command("demo")
@click.option("--bind", default="127.0.0.1:8000", show_default=True)
@click.option("--no-serve", is_flag=True, help="Prepare the data folder and exit.")
def demo(bind: str, no_serve: bool) -> None:
    """The embedded default under ./instance: migrations, demo tenant and key, sample data,
    then the web server."""
    env_settings = Settings.from_env()
    host, _, port = bind.rpartition(":")
    base_url = env_settings.base_url
    if "GATEWAY_BASE_URL" not in os.environ:
        base_url = f"http://{host or '127.0.0.1'}:{port}"
    from dataclasses import replace

    settings = replace(env_settings, base_url=base_url)
    folder = Path(settings.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    svc = build(settings)
    migrate(svc)
    key = _demo_key(svc, folder)
    notes = _demo_samples(svc, folder)
    svc.close()
    click.echo(f"Gateway demo at {base_url}/  (API docs: {base_url}/docs)")
    click.echo(f"Demo API key (sign in with it, or send 'Authorization: Bearer ...'): {key}")
    for note in notes:
        click.echo(f"  {note}")
    sys.stdout.flush()
    if not no_serve:
        # one process for pages, polls and jobs; the browser's keep-alive is welcome here
        run_gunicorn(bind, 1, 120, settings, threads=8, keepalive=2)
