"""edoc: paperless official correspondence for Thai government agencies.

The front door for Python users::

    import edoc
    office = edoc.open_office(home="edoc-home")
    report = edoc.verify_pdf("letter.pdf", trust=["root.pem"])

Imports are lazy, so ``import edoc`` (and the ``edoc`` command) start fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from edoc.office import Office, init_office, open_office
    from edoc.signing.verify import VerificationReport, verify_pdf

__all__ = ["Office", "VerificationReport", "__version__", "init_office", "open_office", "verify_pdf"]


def __getattr__(name: str) -> Any:
    if name in ("open_office", "init_office", "Office"):
        from edoc import office

        return getattr(office, name)
    if name in ("verify_pdf", "VerificationReport"):
        from edoc.signing import verify

        return getattr(verify, name)
    raise AttributeError(f"module 'edoc' has no attribute {name!r}")
