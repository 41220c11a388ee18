"""Input limits for images, in one place."""

from __future__ import annotations

MAX_IMAGE_PIXELS = 40_000_000  # about a 48 MP phone photo is refused; 12 MP is read
MAX_TIFF_FRAMES = 10  # frames read from a multi-frame TIFF
# Time spent reading one photo, seconds: past it, escalation over unread regions stops and
# the result names the regions left unread. A scanner at the dock waits for the answer.
READ_BUDGET_S = 1.0
