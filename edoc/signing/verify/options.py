"""How to verify: the options every verification carries (a light module, no pyHanko)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Options:
    """How to verify (see :func:`edoc.signing.verify.verify_pdf`)."""

    trust: tuple[bytes, ...] = ()
    """DER-encoded trust anchor certificates. The operating system's store is never used."""
    at: datetime | None = None
    """Validate as of this time (aware); None for now."""
    allow_fetching: bool = False
    """Fetch CRLs and OCSP responses online when the file does not embed them."""
    visual: bool = True
    """Render and compare the pages."""
    keep_images: bool = False
    """Keep before/after page images of visible changes (for the HTML report)."""
