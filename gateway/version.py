"""The gateway's version, as the OpenAPI document and `gateway.__version__` state it."""

from __future__ import annotations

__version__ = "0.1.0"
