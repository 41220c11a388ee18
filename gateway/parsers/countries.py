"""Destinations as documents write them -> ISO 3166-1 alpha-2 (the table is `gateway.countries`)."""

from __future__ import annotations

from gateway.countries import normalize_country

__all__ = ["normalize_country"]
