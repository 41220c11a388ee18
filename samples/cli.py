"""`gateway samples`: write sample documents, label photos and a registry with known content."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from gateway.domain import RegistrationRecord


def write_shipments(out_dir: Path) -> list[Path]:
    """The sample shipments' manifests plus one registry CSV holding all their records."""
    from samples.shipments import (
        clean_to_germany,
        details_to_poland,
        ess_by_air,
        problems_to_germany,
        registry_csv,
    )

    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    records: list[RegistrationRecord] = []
    for sample in (clean_to_germany(), problems_to_germany(), ess_by_air(), details_to_poland()):
        for doc in sample.documents:
            path = out_dir / f"{sample.name}_{doc.document.filename}"
            path.write_bytes(doc.data)
            paths.append(path)
        records.extend(sample.records)
    registry = out_dir / "registry.csv"
    registry.write_bytes(registry_csv(records))
    paths.append(registry)
    return paths


def write_labels(out_dir: Path) -> list[Path]:
    """A dozen label photos with a truth.json of the codes on them."""
    from samples.labels import write_set

    truth = write_set(out_dir, count=12, seed=1)
    return [*sorted(p for p in out_dir.iterdir() if p != truth), truth]


def write_manifests(out_dir: Path) -> list[Path]:
    """Manifests in every format the gateway reads (xlsx, GBK csv, text PDF)."""
    from samples.manifests import write_samples

    return write_samples(out_dir)


def write_registry(out_dir: Path) -> list[Path]:
    """The simulator's seeded registrations as registry exports."""
    from samples.registry import write_samples

    return write_samples(out_dir)


GENERATORS: dict[str, Callable[[Path], list[Path]]] = {
    "shipments": write_shipments,
    "labels": write_labels,
    "manifests": write_manifests,
    "registry": write_registry,
}


@click.command("samples")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--only",
    type=click.Choice(sorted(GENERATORS)),
    multiple=True,
    help="Write only these kinds (default: all).",
)
def samples(out_dir: Path, only: tuple[str, ...]) -> None:
    """Write sample manifests, label photos and matching registries into OUT_DIR."""
    for kind in only or tuple(GENERATORS):
        for path in GENERATORS[kind](out_dir / kind):
            click.echo(str(path))
