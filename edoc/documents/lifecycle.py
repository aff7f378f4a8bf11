"""A document's lifecycle: its states and the one table of allowed transitions.

Pure: the office reads the stored state, asks :func:`next_state` and stores the answer in the
same transaction as the act. Acts that do not change the state (an initial on the way up,
registering an arrived copy, a routing step inside the agency) are self-loops, so every act can
ask the table whether it is allowed at all.

::

    draft ──submit/initial──▶ awaiting-signature ──sign──▶ signed ──send──▶ sent
      │ ▲                       │   ▲ initial (self)         │               │
      │ └──────return───────────┘                            ├─file─▶ filed ◀┤
      └─sign──▶ signed                                       └─close─▶ closed◀┘
    received (arrived: imported or delivered) ─register/route (self)─ ─close─▶ closed ─file─▶ filed
    closed ─reopen─▶ received (incoming) / sent (outgoing)
    draft, awaiting-signature, signed ─cancel─▶ cancelled (a number once issued stays, marked cancelled)
"""

from __future__ import annotations

from enum import StrEnum


class DocumentState(StrEnum):
    """Where a document is in its life (one value per stored copy)."""

    DRAFT = "draft"
    """ร่าง: being written; only the drafter and the people named on it see it."""
    AWAITING_SIGNATURE = "awaiting-signature"
    """รอลงนาม: on its way up; heads initial it, the signer signs it."""
    SIGNED = "signed"
    """ลงนามแล้ว: signed; ready to be sent (or filed, for documents not sent)."""
    SENT = "sent"
    """ส่งแล้ว: delivered to its recipients."""
    RECEIVED = "received"
    """รับแล้ว: an incoming copy in this agency (imported from outside, or delivered)."""
    CLOSED = "closed"
    """เรื่องเสร็จ: the matter is finished."""
    FILED = "filed"
    """เก็บ: kept for reference or audit; only records management acts on it now."""
    CANCELLED = "cancelled"
    """ยกเลิก: withdrawn before sending; a number it had is never reused."""

    @property
    def thai(self) -> str:
        """The state's Thai word."""
        return _STATE_THAI[self]


_STATE_THAI = {
    DocumentState.DRAFT: "ร่าง",
    DocumentState.AWAITING_SIGNATURE: "รอลงนาม",
    DocumentState.SIGNED: "ลงนามแล้ว",
    DocumentState.SENT: "ส่งแล้ว",
    DocumentState.RECEIVED: "รับแล้ว",
    DocumentState.CLOSED: "เรื่องเสร็จ",
    DocumentState.FILED: "เก็บแล้ว",
    DocumentState.CANCELLED: "ยกเลิก",
}


class DocumentEvent(StrEnum):
    """What happens to a document (the acts that may move it)."""

    EDIT = "edit"
    """The drafter changes the draft's fields."""
    SUBMIT = "submit"
    """The drafter proposes the draft up the chain (เสนอ)."""
    INITIAL = "initial"
    """A head initials the draft on its way up (ลงชื่อย่อกำกับ)."""
    RETURN = "return"
    """Sent back down for changes."""
    NUMBER = "number"
    """The outgoing number is issued (before or at the first signature)."""
    SIGN = "sign"
    """The signer signs (ลงนาม)."""
    SEND = "send"
    """Delivered to the recipients (ส่ง)."""
    REGISTER = "register"
    """An arrived copy is registered with its receive number and stamp (ลงรับ)."""
    ROUTE = "route"
    """A routing step inside the agency (propose, endorse, assign, acknowledge)."""
    CLOSE = "close"
    """The matter is finished (เรื่องเสร็จ)."""
    REOPEN = "reopen"
    """A closed matter is taken up again."""
    FILE = "file"
    """Kept (เก็บ) under a retention class."""
    CANCEL = "cancel"
    """Withdrawn before sending."""


_S = DocumentState
_E = DocumentEvent

TRANSITIONS: dict[tuple[DocumentState, DocumentEvent], DocumentState] = {
    (_S.DRAFT, _E.EDIT): _S.DRAFT,
    (_S.DRAFT, _E.SUBMIT): _S.AWAITING_SIGNATURE,
    (_S.DRAFT, _E.INITIAL): _S.AWAITING_SIGNATURE,
    (_S.DRAFT, _E.NUMBER): _S.DRAFT,
    (_S.DRAFT, _E.SIGN): _S.SIGNED,
    (_S.DRAFT, _E.CANCEL): _S.CANCELLED,
    (_S.AWAITING_SIGNATURE, _E.INITIAL): _S.AWAITING_SIGNATURE,
    (_S.AWAITING_SIGNATURE, _E.NUMBER): _S.AWAITING_SIGNATURE,
    (_S.AWAITING_SIGNATURE, _E.RETURN): _S.DRAFT,
    (_S.AWAITING_SIGNATURE, _E.SIGN): _S.SIGNED,
    (_S.AWAITING_SIGNATURE, _E.CANCEL): _S.CANCELLED,
    (_S.SIGNED, _E.SEND): _S.SENT,
    (_S.SIGNED, _E.CLOSE): _S.CLOSED,
    (_S.SIGNED, _E.FILE): _S.FILED,
    (_S.SIGNED, _E.CANCEL): _S.CANCELLED,
    (_S.SENT, _E.SEND): _S.SENT,
    (_S.SENT, _E.ROUTE): _S.SENT,
    (_S.SENT, _E.CLOSE): _S.CLOSED,
    (_S.SENT, _E.FILE): _S.FILED,
    (_S.RECEIVED, _E.REGISTER): _S.RECEIVED,
    (_S.RECEIVED, _E.ROUTE): _S.RECEIVED,
    (_S.RECEIVED, _E.CLOSE): _S.CLOSED,
    (_S.RECEIVED, _E.FILE): _S.FILED,
    (_S.CLOSED, _E.REOPEN): _S.RECEIVED,
    (_S.CLOSED, _E.FILE): _S.FILED,
}
"""(state, event) -> the next state. Anything not listed is refused.

``closed --reopen-->`` gives ``received``; for an outgoing matter :func:`next_state` gives
``sent`` instead (see its ``outgoing`` argument).
"""

INITIAL_STATE: dict[str, DocumentState] = {
    "drafted": DocumentState.DRAFT,
    "imported": DocumentState.RECEIVED,
    "delivered": DocumentState.RECEIVED,
}
"""The state a new row starts in, by its ``origin``."""

TERMINAL = frozenset({DocumentState.FILED, DocumentState.CANCELLED})
"""States no document act leaves (records management may still destroy a filed document)."""


class TransitionRefused(ValueError):
    """The table has no entry for (state, event). The office turns this into ``InvalidState``."""

    def __init__(self, state: DocumentState, event: DocumentEvent) -> None:
        super().__init__(f"a {state} document cannot {event}")
        self.state = state
        self.event = event


def next_state(state: DocumentState | str, event: DocumentEvent | str, *, outgoing: bool = False) -> DocumentState:
    """The state after ``event`` happens in ``state``; :class:`TransitionRefused` if not allowed.

    ``outgoing`` is True for the sender's own copy: reopening it goes back to ``sent``.
    """
    state = DocumentState(state)
    event = DocumentEvent(event)
    after = TRANSITIONS.get((state, event))
    if after is None:
        raise TransitionRefused(state, event)
    if event is DocumentEvent.REOPEN and outgoing:
        return DocumentState.SENT
    return after


def allowed_events(state: DocumentState | str) -> tuple[DocumentEvent, ...]:
    """The events the table allows in ``state``, in declaration order."""
    state = DocumentState(state)
    return tuple(e for e in DocumentEvent if (state, e) in TRANSITIONS)


def editable(state: DocumentState | str) -> bool:
    """Only drafts may have their fields changed; after that the text is what was signed."""
    return DocumentState(state) is DocumentState.DRAFT
