"""Text a user typed, made safe to show: control and format characters dropped."""

from __future__ import annotations

import unicodedata


def clean_text(text: str) -> str:
    """Drop control and format characters (bidi overrides, zero-width) and trim."""
    return "".join(
        ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp")
    ).strip()
