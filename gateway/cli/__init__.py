"""The `gateway` command.

Subcommands live beside the code they drive (`gateway/gs1/cli.py`, `gateway/parsers/cli.py`,
...) and are imported only when called, so `gateway codes` starts without loading PDF, image
or web libraries.
"""

from __future__ import annotations

import importlib
import importlib.util

import click

# name -> "module:attribute" of a click command. A missing module hides its command.
COMMANDS: dict[str, str] = {
    "codes": "gateway.gs1.cli:codes",
    "extract": "gateway.parsers.cli:extract",
    "decode": "gateway.barcodes.cli:decode",
    "check": "gateway.cli.check:check",
    "registry": "gateway.platform_client.cli:registry",
    "platform-sim": "gateway.platform_client.cli:platform_sim",
    "serve": "gateway.cli.serve:serve",
    "worker": "gateway.workers.command:worker",
    "demo": "gateway.cli.demo:demo",
    "tenants": "gateway.cli.tenants:tenants",
    "keys": "gateway.cli.keys:keys",
    "db": "gateway.cli.db:db",
    "samples": "samples.cli:samples",
}


def _available(target: str) -> bool:
    module = target.partition(":")[0]
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when the subcommand runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name, target in COMMANDS.items() if _available(target))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None or not _available(target):
            return None
        module_name, _, attr = target.partition(":")
        command = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="battery-export-gateway")
def main() -> None:
    """Battery export validation gateway: read, validate and check battery codes."""
