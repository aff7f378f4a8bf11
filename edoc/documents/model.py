"""The values the office returns about stored documents."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from edoc.documents.kinds import DocumentForm, DocumentKind, Secrecy, Urgency
from edoc.documents.lifecycle import DocumentState


@dataclass(frozen=True)
class AttachmentInfo:
    """A file attached to a document (embedded in its PDF)."""

    name: str
    """File name as embedded (no folders)."""
    sha256: str
    """SHA-256 of the bytes, hex; also the blob's name in the store."""
    size: int
    """Size in bytes."""
    media_type: str = "application/octet-stream"
    """MIME type guessed from the name."""


@dataclass(frozen=True)
class DocumentView:
    """One stored document as a reader with permission sees it (``edoc doc show``)."""

    id: int
    """The id every ``doc`` command takes."""
    kind: DocumentKind
    """Which of the six kinds."""
    form: DocumentForm | None
    """The form of a directive, publicity or record document."""
    origin: str
    """``drafted`` here, ``imported`` from outside, or ``delivered`` by another agency."""
    state: DocumentState
    """Where it is in its life."""
    subject: str
    """เรื่อง."""
    urgency: Urgency
    """ชั้นความเร็ว."""
    secrecy: Secrecy
    """ชั้นความลับ."""
    agency: str
    """Code of the agency holding this copy."""
    agency_name: str
    """Thai name of that agency."""
    unit: str | None
    """Code of the unit it belongs to, if any."""
    number: str | None
    """ที่: the outgoing number once issued (or the sender's number of an incoming copy)."""
    document_date: date | None
    """The date the document bears, once numbered or signed."""
    drafter: str | None
    """Username of who drafted (or imported) it."""
    signer: str | None
    """Username of who signs."""
    initials: tuple[str, ...]
    """Usernames of the heads who initial on the way up."""
    holder: str | None
    """Username of who has it now."""
    from_name: str
    """จาก: the sending agency's name."""
    to_name: str
    """ถึง: the addressee."""
    pdf_sha256: str | None
    """SHA-256 of the stored PDF (imported, or signed), if any."""
    parent_id: int | None
    """For a delivered copy: the sender's document id."""
    created_at: datetime
    """When it was created (aware UTC)."""
    updated_at: datetime
    """When it last changed (aware UTC)."""
    fields: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    """The canonical fields (see :mod:`edoc.documents.fields`)."""
    attachments: tuple[AttachmentInfo, ...] = ()
    """Attached files, by name."""

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values (``edoc --json doc show``)."""
        return {
            "id": self.id,
            "kind": self.kind.value,
            "form": self.form.value if self.form else None,
            "origin": self.origin,
            "state": self.state.value,
            "subject": self.subject,
            "urgency": self.urgency.value,
            "secrecy": self.secrecy.value,
            "agency": self.agency,
            "agency_name": self.agency_name,
            "unit": self.unit,
            "number": self.number,
            "document_date": self.document_date.isoformat() if self.document_date else None,
            "drafter": self.drafter,
            "signer": self.signer,
            "initials": list(self.initials),
            "holder": self.holder,
            "from": self.from_name,
            "to": self.to_name,
            "pdf_sha256": self.pdf_sha256,
            "parent_id": self.parent_id,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "fields": _plain(self.fields),
            "attachments": [
                {"name": a.name, "sha256": a.sha256, "size": a.size, "media_type": a.media_type}
                for a in self.attachments
            ],
        }


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
