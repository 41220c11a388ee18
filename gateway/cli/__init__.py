"""The `gateway` command.

Subcommands live beside the code they drive (`gateway/gs1/cli.py`, `gateway/parsers/cli.py`,
...) and are imported only when called, so `gateway codes` starts without loading PDF, image
or web libraries.
"""

from __future__ import annotations

from collections.abc import Callable

import click


def _codes() -> click.Command:
    from gateway.gs1.cli import codes

    return codes


def _extract() -> click.Command:
    from gateway.parsers.cli import extract

    return extract


def _decode() -> click.Command:
    from gateway.cli.decode import decode

    return decode


def _check() -> click.Command:
    from gateway.cli.check import check

    return check


def _registry() -> click.Command:
    from gateway.platform_client.cli import registry

    return registry


def _platform_sim() -> click.Command:
    from gateway.platform_client.cli import platform_sim

    return platform_sim


def _serve() -> click.Command:
    from gateway.cli.serve import serve

    return serve


def _worker() -> click.Command:
    from gateway.workers.command import worker

    return worker


def _demo() -> click.Command:
    from gateway.cli.demo import demo

    return demo


def _tenants() -> click.Command:
    from gateway.cli.tenants import tenants

    return tenants


def _keys() -> click.Command:
    from gateway.cli.keys import keys

    return keys


def _db() -> click.Command:
    from gateway.cli.db import db

    return db


def _samples() -> click.Command:
    from samples.cli import samples

    return samples


# name -> the function that imports the subcommand; each import is written out, so a reader
# (and mypy) sees what every subcommand needs
COMMANDS: dict[str, Callable[[], click.Command]] = {
    "codes": _codes,
    "extract": _extract,
    "decode": _decode,
    "check": _check,
    "registry": _registry,
    "platform-sim": _platform_sim,
    "serve": _serve,
    "worker": _worker,
    "demo": _demo,
    "tenants": _tenants,
    "keys": _keys,
    "db": _db,
    "samples": _samples,
}


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when the subcommand runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        load = COMMANDS.get(cmd_name)
        return None if load is None else load()


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="battery-export-gateway")
def main() -> None:
    """Battery export validation gateway: read, validate and check battery codes."""
