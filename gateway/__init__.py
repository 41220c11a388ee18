"""The battery export validation gateway.

Nothing runs at import: the web application is built by `create_app(settings)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.version import __version__

if TYPE_CHECKING:
    from flask import Flask

    from gateway.config import Settings

__all__ = ["__version__", "create_app"]


def create_app(settings: Settings | None = None) -> Flask:
    """Build the Flask application for `settings` (from the environment when None)."""
    from gateway.api.app import build_app

    app: Flask = build_app(settings)
    return app
