"""Making signatures: initials, the signer's block, received stamps, receipts, LTV refresh.

Every function takes the PDF as bytes and returns the whole signed PDF (the input plus
incremental updates, so every earlier signature stays valid). All signatures are PAdES
(``ETSI.CAdES.detached``) *approval* signatures with SHA-256; a field's lock (FieldMDP) says
which fields it vouches for (see :mod:`edoc.signing.fields` and ``docs/signing-design.md``).

Levels: B-B; B-T adds a signature time-stamp; B-LT then writes the chain, CRLs and OCSP
responses of the signer and the TSA into the DSS (fetched now, so the file validates later with
fetching disabled); B-LTA adds a document time-stamp over all of it. :func:`refresh_ltv` adds
the validation material of the last time-stamp and a new archive time-stamp.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Coroutine, Sequence
from datetime import UTC, datetime
from io import BytesIO
from typing import Any, TypeVar

from asn1crypto import cms, tsp
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import FieldMDPAction, FieldMDPSpec, MDPPerm, SigFieldSpec, SigSeedSubFilter
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, PdfTimeStamper
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.timestamps import TimestampRequestError
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError, RevokedError

from edoc.errors import (
    AlreadyExists,
    CertificateNotUsable,
    EdocError,
    FieldAlreadySigned,
    FieldLocked,
    InvalidField,
    InvalidPdf,
    SignatureFieldMissing,
    SigningFailed,
    SigningServiceUnavailable,
)
from edoc.signing import fields as fieldmod
from edoc.signing.appearance import appearance_text, stamp_style
from edoc.signing.keys import SigningKey
from edoc.signing.model import (
    TIMESTAMP_PREFIX,
    Appearance,
    FieldBox,
    FieldInfo,
    FieldKind,
    Level,
    ReceivedStamp,
    Rect,
    Signed,
    validate_field_name,
)
from edoc.signing.services import Services, timestamper_for, validation_context

T = TypeVar("T")

MD = "sha256"
"""The digest of every signature edoc makes."""


def sign_pdf(
    pdf: bytes,
    key: SigningKey,
    *,
    field: str,
    level: Level | str = Level.B_B,
    appearance: Appearance | None = None,
    create: bool = False,
    place: FieldBox | None = None,
    lock: Sequence[str] | None = None,
    services: Services | None = None,
    reason: str | None = None,
    location: str | None = None,
    certify: bool = False,
    when: datetime | None = None,
    tz: str = "Asia/Bangkok",
    opened: tuple[IncrementalPdfFileWriter, list[FieldInfo]] | None = None,
) -> Signed:
    """Sign ``pdf`` in the field ``field`` and return the signed PDF.

    Without ``create`` the field must exist, be empty and not be locked by an earlier signature
    (fields made by :func:`~edoc.signing.fields.prepare_fields`). With ``create`` a new field is
    made: visible at ``place``, invisible without it; its lock covers ``lock`` (default: every
    field there is now) and itself. ``appearance`` draws the visible mark. ``certify`` makes a
    certification signature (DocMDP, form filling allowed): only for the first signature of a
    document that will never be stamped afterwards (see ``docs/signing-design.md``). ``opened``
    is the incremental writer over ``pdf`` and its fields, when the caller has read them already
    (parsing the PDF twice costs a few milliseconds per signature).
    """
    level = Level.parse(level)
    field = validate_field_name(field)
    if not isinstance(key, SigningKey):
        raise TypeError("key must be a SigningKey")
    if place is not None and not create:
        raise InvalidField("place", "a place is only given for a new field (create=True)")
    at = when or (appearance.when if appearance is not None else None) or datetime.now(UTC)
    if at.tzinfo is None:
        raise ValueError("when must be timezone-aware")
    if opened is not None:  # the caller opened ``pdf`` and read its fields already
        writer, existing = opened
    else:
        writer = fieldmod.open_writer(pdf)
        existing = fieldmod.inspect_fields(writer.prev)
    by_name = {f.name: f for f in existing}
    new_spec: SigFieldSpec | None = None
    target_page: int | None
    target_rect: Rect | None
    if not create:
        info = by_name.get(field)
        if info is None:
            raise SignatureFieldMissing(field)
        if info.signed:
            raise FieldAlreadySigned(field)
        blocker = fieldmod.locked_by(existing, field)
        if blocker is not None:
            raise FieldLocked(field, blocker)
        target_page, target_rect = info.page, info.rect
    else:
        if field in by_name:
            raise AlreadyExists("signature field", field)
        lock_spec = (
            fieldmod.lock_all_existing(existing, field)
            if lock is None
            else FieldMDPSpec(FieldMDPAction.INCLUDE, fields=[*map(validate_field_name, lock), field])
        )
        target_page, target_rect, box = None, None, None
        index = 0
        if place is not None:
            place = FieldBox.of(place)
            pages = fieldmod.page_count(writer.prev)
            index = place.page if place.page >= 0 else pages + place.page
            if not 0 <= index < pages:
                raise InvalidField("box", f"page {place.page} does not exist (the PDF has {pages} page(s))")
            target_page, target_rect, box = index, place.rect, place.rect.as_tuple()
        new_spec = SigFieldSpec(
            sig_field_name=field,
            on_page=index,
            box=box,  # type: ignore[arg-type]
            field_mdp_spec=lock_spec,
            readable_field_name=fieldmod.READABLE.get(FieldKind.of(field)),
        )
    if certify and any(f.signed for f in existing):
        raise InvalidField("certify", "only the first signature of a document can certify it")
    if appearance is not None and target_rect is None:
        raise InvalidField("appearance", f"the field {field!r} is invisible and cannot show an appearance")
    if level.timestamped and (services is None or not services.has_tsa):
        raise InvalidField("level", f"{level} needs a time-stamping authority (signing.tsa_url)")
    key.check_usable(at)

    vc = validation_context(services) if level.long_term and services is not None else None
    timestamper = timestamper_for(services) if level.timestamped and services is not None else None
    meta = PdfSignatureMetadata(
        field_name=field,
        md_algorithm=MD,
        subfilter=SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
        certify=certify,
        docmdp_permissions=MDPPerm.FILL_FORMS,
        embed_validation_info=level.long_term,
        use_pades_lta=level is Level.B_LTA,
        timestamp_field_name=fieldmod.next_field_name(existing, TIMESTAMP_PREFIX) if level is Level.B_LTA else None,
        validation_context=vc,
        signer_key_usage={"non_repudiation"} if "non_repudiation" in key.key_usage else {"digital_signature"},
    )
    pdf_signer = PdfSigner(
        meta,
        key.signer,
        timestamper=timestamper,
        stamp_style=stamp_style(appearance) if appearance is not None else None,
        new_field_spec=new_spec,
    )
    params = {"text": appearance_text(appearance, tz=tz)} if appearance is not None else None
    reserve_key = (level, id(timestamper))
    out, cms_obj = _run(_sign(pdf_signer, writer, not create, at, key, reserve_key, params), vc)
    data = out.getvalue()
    return Signed(
        pdf=data,
        field=field,
        level=level,
        sha256=hashlib.sha256(data).hexdigest(),
        signer_serial=key.serial,
        signer_subject=key.subject,
        signing_time=at.astimezone(UTC),
        timestamp_time=_timestamp_time(cms_obj),
        page=target_page if target_rect is not None else None,
        rect=target_rect,
    )


async def _sign(
    pdf_signer: PdfSigner,
    writer: IncrementalPdfFileWriter,
    existing_only: bool,
    at: datetime,
    key: SigningKey,
    reserve_key: Any,
    params: dict[str, str] | None,
) -> tuple[BytesIO, cms.ContentInfo | None]:
    """pyHanko's ``async_sign_pdf``, step by step, so the signing time is ours (the appearance
    prints the same time as the CMS ``signingTime``) and the reserved size is computed once per
    key and level."""
    session = pdf_signer.init_signing_session(writer, existing_fields_only=existing_only)
    session.system_time = at
    validation_info = await session.perform_presign_validation(writer)
    reserved = key.reserved.get(reserve_key)
    if reserved is None:
        shape = _shape(key) if reserve_key[0] is Level.B_B else None
        known = _RESERVED_BY_SHAPE.get(shape) if shape is not None else None
        if known is not None:
            # the certificates go into the CMS as they are: only the leaf's length differs
            estimate = known[0] + len(key.asn1_certificate.dump()) - known[1]
        else:
            estimate = await session.estimate_signature_container_size(validation_info, tight=False)
            if shape is not None:
                _RESERVED_BY_SHAPE[shape] = (estimate, len(key.asn1_certificate.dump()))
        # time-stamp tokens and OCSP-less CMS vary a little: keep a margin, even and generous
        reserved = ((estimate + 2048) // 1024) * 1024
        key.reserved[reserve_key] = reserved
    tbs = session.prepare_tbs_document(
        validation_info=validation_info, bytes_reserved=reserved, appearance_text_params=params
    )
    output = BytesIO()
    prepared, res_output = tbs.digest_tbs_document(output=output)
    attrs = PdfCMSSignedAttributes(
        signing_time=at,
        adobe_revinfo_attr=None if validation_info is None else validation_info.adobe_revinfo_attr,
        cades_signed_attrs=pdf_signer.signature_meta.cades_signed_attr_spec,
    )
    signer = tbs.signer
    cms_obj = await signer.async_sign(
        prepared.document_digest,
        tbs.md_algorithm,
        use_pades=tbs.use_pades,
        timestamper=tbs.timestamper,
        signed_attr_settings=attrs,
    )
    from pyhanko.sign.signers.pdf_signer import PdfPostSignatureDocument

    sig_contents = tbs.cms_writer.send(cms_obj)
    post = PdfPostSignatureDocument(
        sig_contents, post_sign_instr=tbs.post_sign_instructions, validation_context=tbs.validation_context
    )
    await post.post_signature_processing(res_output)
    return output, cms_obj


class _Boxed:
    """A coroutine's result, with a cheap ``repr``.

    ``asyncio.run`` in the main thread puts the main task into its SIGINT handler (a
    ``functools.partial``); restoring the handler afterwards goes through
    ``signal.getsignal``, whose enum lookup formats ``repr(handler)``, hence the finished task and
    its result. A CMS ``ContentInfo`` re-serialises itself for its ``repr`` (hundreds of
    milliseconds for a signature with its chain): boxing the result skips that.
    """

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<result>"


async def _boxed(coro: Coroutine[Any, Any, T]) -> _Boxed:
    return _Boxed(await coro)


_RESERVED_BY_SHAPE: dict[tuple[Any, ...], tuple[int, int]] = {}
"""pyHanko's estimate of a B-B signature's CMS (a dry run of a whole signature), per key shape,
with the length of the leaf certificate it was made for. Every agency seal of an office has the
same shape: estimating once serves all of them (a circular to 343 agencies stamps with 343 keys)."""


def _shape(key: SigningKey) -> tuple[Any, ...] | None:
    """What a B-B CMS's size depends on besides the leaf certificate's length: the key's
    algorithm and size (the signature's length) and the chain (embedded as is)."""
    if key.credentials.key is None:
        return None  # a token's signer: estimated per key, as before
    public = key.certificate.public_key()
    size = getattr(public, "key_size", 0)
    return (type(public).__name__, size, tuple(c.dump() for c in key.asn1_chain))


def _run(coro: Coroutine[Any, Any, T], vc: ValidationContext | None) -> T:
    """Run one signing coroutine; turn pyHanko's failures into edoc errors."""
    from pyhanko.sign._session_scope import run_and_release

    try:
        boxed: _Boxed = asyncio.run(_boxed(run_and_release(coro, vc)))
        return boxed.value
    except EdocError:
        raise
    except TimestampRequestError as exc:
        raise SigningServiceUnavailable("time-stamping authority", _cause(exc)) from exc
    except SigningError as exc:
        raise _signing_error(exc) from exc
    except (PathValidationError, PathBuildingError) as exc:
        raise _path_error(exc) from exc
    except OSError as exc:
        raise SigningServiceUnavailable("trust services", _cause(exc)) from exc
    except ValueError as exc:
        if "reserved" in str(exc).lower() or "too small" in str(exc).lower():
            raise SigningFailed(f"the reserved signature space was too small: {exc}") from exc
        raise SigningFailed(f"{type(exc).__name__}: {exc}") from exc


def _cause(exc: BaseException) -> str:
    parts = []
    seen = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = str(current).strip()
        if text and text not in parts:
            parts.append(text)
        current = current.__cause__ or current.__context__
    return "; ".join(parts)[:400] or type(exc).__name__


def _signing_error(exc: SigningError) -> EdocError:
    cause = exc.__cause__
    if isinstance(cause, (PathValidationError, PathBuildingError)):
        return _path_error(cause)
    text = _cause(exc)
    if "timestamp" in text.lower() or "time stamp" in text.lower():
        return SigningServiceUnavailable("time-stamping authority", text)
    if "ran out of space" in text.lower() or "reserved" in text.lower():
        return SigningFailed(f"the reserved signature space was too small: {text}")
    return SigningFailed(text)


def _path_error(exc: BaseException) -> EdocError:
    text = _cause(exc)
    if isinstance(exc, RevokedError) or "revoked" in text.lower():
        return CertificateNotUsable("the signer", f"it is revoked ({text})")
    if "fetch" in text.lower() or "could not be retrieved" in text.lower() or "connect" in text.lower():
        return SigningServiceUnavailable("CRL/OCSP service", text)
    if isinstance(exc, PathBuildingError):
        return CertificateNotUsable("the signer", f"no path to a trusted root ({text})")
    return CertificateNotUsable("the signer", text)


def _timestamp_time(cms_obj: cms.ContentInfo | None) -> datetime | None:
    if cms_obj is None:
        return None
    try:
        signer_info = cms_obj["content"]["signer_infos"][0]
        for attr in signer_info["unsigned_attrs"] or ():
            if attr["type"].native == "signature_time_stamp_token":
                token = attr["values"][0]
                tst = token["content"]["encap_content_info"]["content"].parsed
                assert isinstance(tst, tsp.TSTInfo)
                gen_time = tst["gen_time"].native
                return gen_time if isinstance(gen_time, datetime) else None
    except (KeyError, IndexError, AttributeError, ValueError):
        return None
    return None


# -- the acts edoc makes ---------------------------------------------------------------------------


def stamp_received(
    pdf: bytes,
    seal: SigningKey,
    stamp: ReceivedStamp,
    *,
    zone: FieldBox,
    level: Level | str = Level.B_LT,
    services: Services | None = None,
    size: tuple[float, float] = fieldmod.STAMP_SIZE,
    tz: str = "Asia/Bangkok",
) -> Signed:
    """Add the received stamp (ตรารับหนังสือ) as a signature by the receiving agency's seal.

    A new field ``received-N`` is made in the first free cell of ``zone`` (the renderer's
    ``stamp_zone`` on page 0; for an imported PDF, a zone at the top right of page 0); it never
    overlaps another stamp or widget; its lock covers every field already in the PDF. Its
    appearance prints the agency name, เลขรับ, วันที่ and เวลา.
    """
    if not isinstance(stamp, ReceivedStamp):
        raise TypeError("stamp must be a ReceivedStamp")
    zone = FieldBox.of(zone)
    writer = fieldmod.open_writer(pdf)
    existing = fieldmod.inspect_fields(writer.prev)
    rect = fieldmod.stamp_slot(existing, zone, size)
    name = fieldmod.next_stamp_name(existing)
    return sign_pdf(
        pdf,
        seal,
        field=name,
        level=level,
        appearance=stamp,
        create=True,
        place=FieldBox(zone.page, rect),
        services=services,
        reason="ลงรับหนังสือ (received)",
        when=stamp.when,
        tz=tz,
        opened=(writer, existing),
    )


def sign_receipt(
    pdf: bytes,
    seal: SigningKey,
    *,
    level: Level | str = Level.B_T,
    services: Services | None = None,
    reason: str = "ตอบรับหนังสือ (receipt)",
    when: datetime | None = None,
) -> Signed:
    """An invisible acknowledgement by a receiving agency's seal, in a new ``receipt-N`` field
    whose lock covers every field already in the PDF."""
    existing = fieldmod.inspect_fields(pdf)
    return sign_pdf(
        pdf,
        seal,
        field=fieldmod.next_receipt_name(existing),
        level=level,
        create=True,
        services=services,
        reason=reason,
        when=when,
    )


def refresh_ltv(pdf: bytes, services: Services) -> bytes:
    """Renew long-term validity: one incremental update with the chains, CRLs and OCSP
    responses of the last archive time-stamp and of every signature made after it (all
    signatures when there is none yet), then a new archive (document) time-stamp over it all.

    Run it before the last time-stamp's TSA certificate expires (``edoc doc ltv``): later, the
    last time-stamp can no longer be validated and the chain breaks."""
    if not services.has_tsa:
        raise InvalidField("signing.tsa_url", "refreshing long-term validity needs a time-stamping authority")
    writer = fieldmod.open_writer(pdf)
    existing = fieldmod.inspect_fields(writer.prev)
    if not any(f.signed for f in existing):
        raise InvalidPdf("it has no signature to keep valid")
    timestamper = timestamper_for(services)
    name = fieldmod.next_field_name(existing, TIMESTAMP_PREFIX)
    vc = validation_context(services)

    async def work() -> BytesIO:
        from pyhanko.sign.validation import dss

        sigs = list(writer.prev.embedded_signatures)
        last_ts = max((i for i, s in enumerate(sigs) if s.sig_object_type == "/DocTimeStamp"), default=-1)
        targets = sigs[max(last_ts, 0) :]
        paths: list[Any] = []
        for sig in targets:
            paths.extend(await dss.collect_validation_info(sig, vc))
        dss.DocumentSecurityStore.supply_dss_in_writer(writer, None, paths=paths, validation_context=vc)
        output = BytesIO()
        await PdfTimeStamper(timestamper, field_name=name).async_timestamp_pdf(writer, MD, vc, output=output)
        return output

    return _run(work(), vc).getvalue()


def fields_of(pdf: bytes) -> list[FieldInfo]:
    """The signature fields of ``pdf`` (see :func:`edoc.signing.fields.inspect_fields`)."""
    return fieldmod.inspect_fields(pdf)
