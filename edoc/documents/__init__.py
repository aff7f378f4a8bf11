"""Official documents: the six kinds and their fields, the lifecycle, Thai formatting and the
PDF renderer.

Pure: nothing here touches the database. The office validates a document file with
:func:`validate` / :func:`load`, stores the canonical fields, and asks :func:`next_state` before
every change of state. Rendering lives in :mod:`edoc.documents.render` (it imports fpdf2 and
uharfbuzz, so import it only where you render).
"""

from edoc.documents.fields import (
    COMMON,
    SCHEMAS,
    DocumentContent,
    FieldSpec,
    FieldType,
    from_canonical,
    load,
    load_file,
    parse_kind,
    parse_text,
    validate,
)
from edoc.documents.kinds import DEFAULT_FORM, FORMS, DocumentForm, DocumentKind, Secrecy, Urgency
from edoc.documents.lifecycle import (
    INITIAL_STATE,
    TRANSITIONS,
    DocumentEvent,
    DocumentState,
    TransitionRefused,
    allowed_events,
    editable,
    next_state,
)
from edoc.documents.model import AttachmentInfo, DocumentView

__all__ = [
    "COMMON",
    "DEFAULT_FORM",
    "FORMS",
    "INITIAL_STATE",
    "SCHEMAS",
    "TRANSITIONS",
    "AttachmentInfo",
    "DocumentContent",
    "DocumentEvent",
    "DocumentForm",
    "DocumentKind",
    "DocumentState",
    "DocumentView",
    "FieldSpec",
    "FieldType",
    "Secrecy",
    "TransitionRefused",
    "Urgency",
    "allowed_events",
    "editable",
    "from_canonical",
    "load",
    "load_file",
    "next_state",
    "parse_kind",
    "parse_text",
    "validate",
]
