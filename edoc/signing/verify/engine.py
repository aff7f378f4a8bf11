"""The verification itself: one file in, one :class:`VerificationReport` out.

This is the risky part (it parses hostile input), so :mod:`edoc.signing.verify` normally runs
it in a worker process it can stop (:mod:`edoc.signing.verify.sandbox`). Nothing here may
let an exception escape: every failure becomes a verdict with a reason.

For each signature field, in signing order:

1. the raw bytes (:mod:`.rawbytes`): the byte range covers exactly one whole revision, its
   gap holds exactly this signature's value, inside this signature's dictionary;
2. the container: decodable CMS, the signer's certificate present, the signed attributes
   DER-encoded as CMS requires;
3. pyHanko's AdES validation (ETSI EN 319 102-1 with long-term validation): digest, signature
   value, the chain to the given trust anchors only, key usage, validity at the best signing
   time proven by time-stamps, revocation from embedded data (DSS, the signature's own
   archival attribute) and, when allowed, online;
4. what changed afterwards: pyHanko's difference analysis (with the signature's DocMDP and
   FieldMDP rules), and, when it cannot justify a change, edoc's own comparison of the
   revisions (:mod:`.changes`);
5. what a reader sees (:mod:`.visual`): every page rendered as signed and as it is now; a
   difference outside the appearances of later intact signatures is a visible change.

Then the indications (see :func:`_verdict`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import io
import logging
import mmap
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from asn1crypto import cms, x509
from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate, AdESPassed, AdESStatus, AdESSubIndic
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, DiffResult, ModificationLevel, SuspiciousModification
from pyhanko.sign.fields import MDPPerm, enumerate_sig_fields
from pyhanko.sign.general import CMSExtractionError
from pyhanko.sign.validation import generic_cms
from pyhanko.sign.validation.ades import ades_lta_validation, ades_timestamp_validation
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.errors import NoDSSFoundError
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature, extract_contents
from pyhanko.sign.validation.policy_decl import (
    CertificateFetchingRule,
    LocalKnowledge,
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import DocumentTimestampStatus, SignatureCoverageLevel
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
from pyhanko_certvalidator.policy_decl import (
    CertRevTrustPolicy,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)
from pyhanko_certvalidator.registry import CertificateRegistry, PathBuilder, SimpleTrustManager

from edoc.signing.verify import changes as change_analysis
from edoc.signing.verify import rawbytes, speedups
from edoc.signing.verify.options import Options
from edoc.signing.verify.report import (
    ChangeKind,
    Coverage,
    Indication,
    Level,
    Modifications,
    PageChange,
    Reason,
    Revocation,
    SignatureKind,
    SignatureReport,
    Signer,
    VerificationReport,
    file_indication,
    worst_modification,
)

logger = logging.getLogger(__name__)

speedups.install()

PADES = "/ETSI.CAdES.detached"
PKCS7_DETACHED = "/adbe.pkcs7.detached"
PKCS7_SHA1 = "/adbe.pkcs7.sha1"
RFC3161 = "/ETSI.RFC3161"
SIGNATURE_SUBFILTERS = (PADES, PKCS7_DETACHED, "/PBAD.PAdES")

PYHANKO_DIFF_PAIRS = 120
"""pyHanko compares every signed revision with every later one (quadratic, about 0.1 s a pair);
beyond this many pairs edoc's own comparison (one pass over the revisions) decides alone."""

KEY_USAGE = KeyUsageConstraints(key_usage={"non_repudiation", "digital_signature"}, match_all_key_usages=False)
"""A document signing certificate must allow digital signatures or non-repudiation."""

REVOCATION_POLICY = CertRevTrustPolicy(
    RevocationCheckingPolicy(
        ee_certificate_rule=RevocationCheckingRule.CRL_OR_OCSP_REQUIRED,
        intermediate_ca_cert_rule=RevocationCheckingRule.CRL_OR_OCSP_REQUIRED,
    )
)
"""As ETSI EN 319 102-1 and DSS: revocation data is required for every certificate but the anchor."""


def analyse(source: str | bytes, name: str, options: Options) -> VerificationReport:
    """Verify one file (a path or its bytes); never raises for anything the file contains."""
    started = time.perf_counter()
    cpu_started = time.process_time()
    checked_at = (options.at or datetime.now(UTC)).astimezone(UTC)
    try:
        with _open(source) as (data, stream):
            report = _Analysis(data, stream, name, options, checked_at).run()
    except MemoryError:
        report = _file_failure(name, Indication.INDETERMINATE, Reason.of("memory", megabytes="?"), checked_at)
    except OSError as exc:
        report = _file_failure(name, Indication.INDETERMINATE, Reason.of("unreadable", detail=_short(exc)), checked_at)
    except Exception as exc:  # the last line of defence: a verdict, never a traceback
        logger.debug("verification failed", exc_info=True)
        report = _file_failure(
            name, Indication.INDETERMINATE, Reason.of("internal_error", detail=_short(exc)), checked_at
        )
    return _with_time(report, time.perf_counter() - started, time.process_time() - cpu_started)


def _with_time(report: VerificationReport, seconds: float, cpu_seconds: float) -> VerificationReport:
    import dataclasses

    return dataclasses.replace(report, seconds=seconds, cpu_seconds=cpu_seconds)


def _file_failure(
    name: str, indication: Indication, reason: Reason, checked_at: datetime, **extra: Any
) -> VerificationReport:
    return VerificationReport(
        file=name, indication=indication, signatures=(), reasons=(reason,), checked_at=checked_at, **extra
    )


@contextlib.contextmanager
def _open(source: str | bytes) -> Iterator[tuple[Any, Any]]:
    """The file's bytes (memory-mapped for paths, so a 100 MB file is not copied) and a stream."""
    if isinstance(source, bytes):
        yield source, io.BytesIO(source)
        return
    with open(source, "rb") as fh:
        size = fh.seek(0, io.SEEK_END)
        fh.seek(0)
        if size == 0:
            yield b"", fh
            return
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            yield mapped, fh


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = text[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --- pyHanko's embedded signature, made tolerant --------------------------------------------------


class _Sig(EmbeddedPdfSignature):
    """pyHanko's embedded signature, with three changes for hostile and unusual files.

    * integrity (coverage and difference analysis) is computed once and kept: pyHanko's AdES
      validation recomputes it for every signature of the file on every call, which makes a
      file with many signatures quadratic (``lt-short.pdf``: a minute);
    * an RFC 3161 token stored as ``/Type /Sig`` is treated as the document time-stamp it is;
    * a container with several SignerInfos is read one SignerInfo at a time.
    """

    _edoc_integrity: tuple[bool, bool] | None = None

    def __init__(self, reader: PdfFileReader, sig_field: Any, fq_name: str, signer_index: int = 0) -> None:
        try:
            super().__init__(reader, sig_field, fq_name)
        except CMSExtractionError:
            self._init_one_signer(reader, sig_field, fq_name, signer_index)
            return
        if signer_index:
            self._init_one_signer(reader, sig_field, fq_name, signer_index)

    def _init_one_signer(self, reader: PdfFileReader, sig_field: Any, fq_name: str, index: int) -> None:
        # the same steps as pyHanko's constructor, for SignerInfo number ``index`` only
        self.reader = reader
        if isinstance(sig_field, generic.IndirectObject):
            sig_field = sig_field.get_object()
        self.sig_field = sig_field
        sig_object_ref = sig_field.raw_get("/V")
        self.sig_object = sig_object_ref.get_object()
        self.byte_range = self.sig_object.raw_get("/ByteRange")
        self.pkcs7_content = extract_contents(self.sig_object)
        message = cms.ContentInfo.load(self.pkcs7_content)
        signed_data = message["content"]
        infos = list(signed_data["signer_infos"])
        if not 0 <= index < len(infos):
            raise CMSExtractionError("no such SignerInfo")
        one = signed_data.copy()
        one["signer_infos"] = cms.SignerInfos([infos[index]])
        self.signed_data = one
        self.signer_info = infos[index]
        self._sd_cert_info = None
        self.md_algorithm = self.signer_info["digest_algorithm"]["algorithm"].native.lower()
        self.external_md_algorithm = self.md_algorithm
        self.signed_revision = reader.xrefs.get_last_change(sig_object_ref.reference)
        self.coverage = None
        self.external_digests = {}
        self._docmdp = None
        self._fieldmdp = None
        self._docmdp_queried = self._fieldmdp_queried = False
        self.tst_signature_digest = None
        self.diff_result = None
        self._integrity_checked = False
        self.fq_name = fq_name

    @property
    def sig_object_type(self) -> generic.NameObject:
        if self.sig_object.get("/SubFilter") == RFC3161:
            return generic.NameObject("/DocTimeStamp")
        return super().sig_object_type

    def compute_integrity_info(self, diff_policy: Any = None, skip_diff: bool = False) -> None:
        done = self._edoc_integrity
        if done is not None and (skip_diff or done[1]):
            return
        try:
            super().compute_integrity_info(diff_policy=diff_policy, skip_diff=skip_diff)
        except Exception as exc:
            # a crash inside the difference analysis is a change it could not justify
            try:
                coverage = self.evaluate_signature_coverage()
            except Exception:
                coverage = SignatureCoverageLevel.UNCLEAR
            self.coverage = coverage  # type: ignore[assignment]
            failed = None if skip_diff else SuspiciousModification(f"analysis failed: {_short(exc)}")
            self.diff_result = failed  # type: ignore[assignment]
            self._integrity_checked = True
        self._edoc_integrity = (True, not skip_diff)


# --- per-signature working state ------------------------------------------------------------------


@dataclass
class _Entry:
    name: str
    kind: SignatureKind
    subfilter: str | None
    sig: _Sig | None = None
    others: list[_Sig] = field(default_factory=list)
    """Further SignerInfos of the same container."""
    revision: int | None = None
    fatal: list[Reason] = field(default_factory=list)
    """Format problems: the signature cannot be what it claims."""
    reasons: list[Reason] = field(default_factory=list)
    coverage: Coverage = Coverage.PARTIAL
    range_end: int | None = None
    intact: bool = False
    crypto_valid: bool = False
    hash_ok: bool | None = None
    subindic: str | None = None
    ades_status: AdESStatus | None = None
    trusted: bool = False
    chain: tuple[str, ...] = ()
    revocation: Revocation = Revocation.UNKNOWN
    signer: Signer = field(default_factory=lambda: Signer(None, None, None, None))
    signing_time: datetime | None = None
    timestamp: datetime | None = None
    level: Level = Level.NONE
    modifications: Modifications = Modifications.NONE
    other_changes: bool = False
    declared_visible: bool = False
    unexplained_visible: bool = False
    page_changes: list[PageChange] = field(default_factory=list)
    widget: tuple[int, tuple[float, float, float, float]] | None = None
    widget_revision: int | None = None
    chain_problem: str | None = None
    """What the certificate validator said when the chain did not validate (for the reasons)."""
    path: Any = None
    """The certification path to an anchor the AdES validation built, when it built one."""
    unsigned_tail: int = 0
    """Bytes (not only whitespace) after the end of the file's last revision: signed by nobody."""
    unsigned_objects: int = 0
    """Objects added after the signature by revisions that change nothing else (unused, unsigned)."""
    misplaced_xrefs: int = 0
    """Later (unsigned) revisions whose ``startxref`` does not point at their cross-reference
    section: readers that follow it exactly and readers that repair it may see different files."""


class _Analysis:
    def __init__(self, data: Any, stream: Any, name: str, options: Options, checked_at: datetime) -> None:
        self.data = data
        self.stream = stream
        self.name = name
        self.options = options
        self.checked_at = checked_at
        self.file_reasons: list[Reason] = []
        self.trailing = 0
        self.misplaced_xrefs: list[int] = []
        self.anchors = [x509.Certificate.load(der) for der in options.trust]
        self._dss_cert_list: list[x509.Certificate] | None = None
        self.anchor_names = tuple(c.subject.human_friendly for c in self.anchors)

    def _failure(self, indication: Indication, reason: Reason) -> VerificationReport:
        return VerificationReport(
            file=self.name,
            indication=indication,
            signatures=(),
            reasons=(*self.file_reasons, reason),
            sha256=self.sha256,
            size=len(self.data),
            checked_at=self.checked_at,
            trust_anchors=self.anchor_names,
        )

    def run(self) -> VerificationReport:
        data = self.data
        self.sha256 = hashlib.sha256(data).hexdigest()
        if len(data) == 0:
            return self._failure(Indication.TOTAL_FAILED, Reason.of("empty_file"))
        if not rawbytes.has_pdf_header(data):
            return self._failure(Indication.TOTAL_FAILED, Reason.of("not_pdf"))
        try:
            reader = PdfFileReader(self.stream, strict=False)
            if reader.encrypted and not self._decrypt(reader):
                return self._failure(Indication.INDETERMINATE, Reason.of("encrypted"))
            fields = list(enumerate_sig_fields(reader, filled_status=True))
            pages = int(reader.root["/Pages"]["/Count"])
        except (
            misc.PdfError,
            ValueError,
            KeyError,
            TypeError,
            AttributeError,
            IndexError,
            RecursionError,
            OSError,
        ) as exc:
            return self._failure(Indication.TOTAL_FAILED, Reason.of("unreadable", detail=_short(exc)))
        self.reader = reader
        self.pages = pages
        if reader.xrefs.hybrid_xrefs_present:
            self.file_reasons.append(Reason.of("hybrid_xref"))
        self.revision_ends = self._revision_ends()
        last_end = self.revision_ends.get(reader.xrefs.total_revisions - 1)
        trailing = self.trailing = rawbytes.trailing_bytes(data, last_end)
        if trailing:
            self.file_reasons.append(Reason.of("trailing_bytes", count=trailing))
        if not fields:
            return VerificationReport(
                file=self.name,
                indication=Indication.TOTAL_FAILED,
                signatures=(),
                reasons=(*self.file_reasons, Reason.of("no_signatures")),
                sha256=self.sha256,
                size=len(data),
                pages=pages,
                checked_at=self.checked_at,
                trust_anchors=self.anchor_names,
            )
        entries = [self._entry(fq_name, value, field_ref) for fq_name, value, field_ref in fields]
        entries.sort(key=lambda e: e.revision if e.revision is not None else 1 << 30)
        self.entries = entries
        # let pyHanko's long-term validation see our (memoising) signature objects
        ours = sorted([e.sig for e in entries if e.sig is not None and not e.fatal], key=lambda s: s.signed_revision)
        reader._embedded_signatures = ours  # type: ignore[assignment]
        self.classifier = change_analysis.Classifier(reader)
        last = reader.xrefs.total_revisions - 1
        pairs = sum(last - e.revision for e in entries if e.revision is not None and e.sig is not None)
        self.pyhanko_diff = pairs <= PYHANKO_DIFF_PAIRS
        for entry in entries:
            self._raw_checks(entry)
        with speedups.shared_work():
            asyncio.run(self._validate_all(entries))
        for entry in entries:
            self._changes_after(entry)
        self._levels(entries)
        if self.options.visual:
            self._visual(entries)
        signatures = tuple(self._verdict(e) for e in entries)
        self._after_last(entries)
        return VerificationReport(
            file=self.name,
            indication=file_indication(signatures),
            signatures=signatures,
            reasons=tuple(self.file_reasons),
            sha256=self.sha256,
            size=len(data),
            pages=pages,
            checked_at=self.checked_at,
            trust_anchors=self.anchor_names,
        )

    def _decrypt(self, reader: PdfFileReader) -> bool:
        try:
            result = reader.decrypt("")
        except Exception:
            return False
        from pyhanko.pdf_utils.crypt import AuthStatus

        if getattr(result, "status", AuthStatus.FAILED) == AuthStatus.FAILED:
            return False
        self.file_reasons.append(Reason.of("encrypted_empty_password"))
        return True

    def _revision_ends(self) -> dict[int, rawbytes.RevisionEnd]:
        xrefs = self.reader.xrefs
        metas = [xrefs.get_xref_container_info(rev) for rev in range(xrefs.total_revisions)]
        startxrefs = {meta.declared_startxref: rev for rev, meta in enumerate(metas)}
        self.misplaced_xrefs = [
            rev
            for rev, meta in enumerate(metas)
            if not rawbytes.xref_at(self.data, meta.declared_startxref) or self._misplaced_object(rev)
        ]
        ends = {}
        for meta in metas:
            end = rawbytes.revision_end(self.data, meta.end_location, startxrefs)
            if end is not None and end.revision not in ends:
                ends[end.revision] = end
        return ends

    def _misplaced_object(self, revision: int) -> bool:
        """Does an object the revision's cross-reference section places at a byte offset not
        begin there (``N G obj``)? pyHanko finds such objects anyway (and a reader may not), so
        an offset changed in a revision nobody signed would otherwise go unnoticed."""
        xrefs = self.reader.xrefs
        try:
            refs = xrefs.explicit_refs_in_revision(revision)
        except Exception:
            return False
        for ref in refs:
            try:
                where = xrefs.get_historical_ref(ref, revision)
            except Exception:
                continue
            if isinstance(where, int) and not rawbytes.object_at(self.data, where, ref.idnum, ref.generation):
                return True
        return False

    # -- reading each signature field ------------------------------------------------------------

    def _entry(self, fq_name: str, value: Any, field_ref: Any) -> _Entry:
        entry = _Entry(name=str(fq_name), kind=SignatureKind.SIGNATURE, subfilter=None)
        try:
            sig_obj = value.get_object()
        except Exception as exc:
            entry.fatal.append(Reason.of("cms_unreadable", detail=_short(exc)))
            return entry
        if not isinstance(sig_obj, generic.DictionaryObject):
            entry.fatal.append(Reason.of("cms_unreadable", detail="the field's value is not a signature dictionary"))
            return entry
        subfilter = sig_obj.get("/SubFilter")
        entry.subfilter = str(subfilter) if subfilter is not None else None
        if sig_obj.get("/Type") == "/DocTimeStamp" or subfilter == RFC3161:
            entry.kind = SignatureKind.TIMESTAMP
            if sig_obj.get("/Type") != "/DocTimeStamp":
                entry.reasons.append(Reason.of("rfc3161_as_sig"))
        if isinstance(value, generic.IndirectObject):
            with contextlib.suppress(Exception):
                entry.revision = self.reader.xrefs.get_last_change(value.reference)
        try:
            contents = extract_contents(sig_obj)
        except Exception as exc:
            entry.fatal.append(Reason.of("cms_unreadable", detail=_short(exc)))
            return entry
        if not contents.strip(b"\x00"):
            entry.fatal.append(Reason.of("placeholder"))
            return entry
        if subfilter not in (*SIGNATURE_SUBFILTERS, PKCS7_SHA1, RFC3161):
            entry.fatal.append(Reason.of("subfilter_unsupported", subfilter=str(subfilter)[1:]))
            return entry
        try:
            entry.sig = _Sig(self.reader, field_ref, entry.name)
            count = len(cms.ContentInfo.load(contents)["content"]["signer_infos"])
            if count > 1:
                entry.reasons.append(Reason.of("multiple_signer_infos", count=count))
                entry.others = [_Sig(self.reader, field_ref, entry.name, i) for i in range(1, count)]
        except Exception as exc:
            entry.fatal.append(Reason.of("cms_unreadable", detail=_short(exc)))
            return entry
        entry.revision = entry.sig.signed_revision
        try:
            problem = _container_problem(entry.sig, entry.kind, entry.subfilter)
            if problem is None:
                problem = _envelope_problem(entry.sig, self._known_certs())
        except Exception as exc:  # any part of the unsigned container that does not parse
            problem = Reason.of("cms_unreadable", detail=_short(exc))
        if problem is not None:
            entry.fatal.append(problem)
        try:
            entry.signer = _signer_of(entry.sig.signer_cert)
        except Exception:
            entry.signer = Signer(None, None, None, None)
        return entry

    def _known_certs(self) -> list[x509.Certificate]:
        known = getattr(self, "_known", None)
        if known is None:
            known = self._known = [*self.anchors, *_dss_certs(self.reader)]
        return known

    # -- 1. the raw bytes ----------------------------------------------------------------------

    def _raw_checks(self, entry: _Entry) -> None:
        sig = entry.sig
        if sig is None:
            return
        offset: int | None = None
        ref = sig.sig_field.raw_get("/V")
        if isinstance(ref, generic.IndirectObject) and entry.revision is not None:
            with contextlib.suppress(Exception):
                loc = self.reader.xrefs.get_historical_ref(ref.reference, entry.revision)
                offset = loc if isinstance(loc, int) else None
        check = rawbytes.check_byte_range(
            self.data,
            list(sig.byte_range) if isinstance(sig.byte_range, generic.ArrayObject) else sig.byte_range,
            sig.pkcs7_content,
            offset,
            entry.revision,
            list(self.revision_ends.values()),
        )
        entry.range_end = check.covered_end
        for code, params in check.problems:
            entry.fatal.append(Reason.of(code, **params))
        entry.unsigned_tail = self.trailing
        if entry.revision is not None:
            entry.misplaced_xrefs = sum(1 for rev in self.misplaced_xrefs if rev > entry.revision)
        if check.sound:
            last = self.revision_ends.get(self.reader.xrefs.total_revisions - 1)
            if (
                not self.trailing
                and last is not None
                and check.covered_end in (last.eof_end, last.eol_end)
                and (check.revision == self.reader.xrefs.total_revisions - 1)
            ):
                entry.coverage = Coverage.ENTIRE_FILE
            else:
                entry.coverage = Coverage.ENTIRE_REVISION
        # pyHanko's own coverage verdict must agree (defence in depth)
        with contextlib.suppress(Exception):
            pyhanko_coverage = sig.evaluate_signature_coverage()
            if check.sound and pyhanko_coverage < SignatureCoverageLevel.ENTIRE_REVISION:
                entry.fatal.append(Reason.of("byterange_not_revision"))
                entry.coverage = Coverage.PARTIAL
        if not _signed_attrs_der(sig.signer_info):
            entry.fatal.append(Reason.of("signed_attrs_not_der"))
            entry.subindic = AdESFailure.HASH_FAILURE.name

    # -- 2./3. cryptography and trust --------------------------------------------------------------

    async def _validate_all(self, entries: Sequence[_Entry]) -> None:
        spec = self._spec()
        for entry in entries:
            if entry.sig is None:
                continue
            try:
                if entry.kind is SignatureKind.TIMESTAMP:
                    await self._validate_doc_timestamp(entry, spec)
                elif entry.subfilter == PKCS7_SHA1:
                    await self._validate_sha1(entry, spec)
                else:
                    await self._validate_signature(entry, spec)
                    for other in entry.others:
                        ok = await self._crypto_only(other)
                        if not ok:
                            entry.intact = False
                            entry.subindic = entry.subindic or AdESFailure.SIG_CRYPTO_FAILURE.name
            except Exception as exc:
                logger.debug("validation of %s failed", entry.name, exc_info=True)
                entry.subindic = entry.subindic or AdESIndeterminate.GENERIC.name
                entry.ades_status = entry.ades_status or AdESStatus.INDETERMINATE
                entry.reasons.append(Reason.of("validation_other", subindication="GENERIC", detail=_short(exc)))
            await self._chain(entry)

    def _spec(self) -> PdfSignatureValidationSpec:
        import dataclasses

        local = _dss_knowledge(self.reader)
        # Everything the file holds provably exists now: we hold it. Without this proof of
        # existence pyHanko's long-term validation ignores the DSS's revocation data when no
        # document time-stamp follows the signature (a plain B-LT file would never pass).
        local = dataclasses.replace(local, known_poes=list(local.assert_existence_known_at(datetime.now(UTC))))
        fetch = self.options.allow_fetching
        cert_policy = CertValidationPolicySpec(
            trust_manager=SimpleTrustManager.build(trust_roots=list(self.anchors)),
            revinfo_policy=REVOCATION_POLICY,
        )
        return PdfSignatureValidationSpec(
            SignatureValidationSpec(
                cert_validation_policy=cert_policy,
                revinfo_gathering_policy=RevocationInfoGatheringSpec(
                    online_fetching_rule=(
                        RevinfoOnlineFetchingRule.NO_HISTORICAL_FETCH if fetch else RevinfoOnlineFetchingRule.LOCAL_ONLY
                    ),
                    certificate_fetching_rule=(
                        CertificateFetchingRule.FOLLOW_ONLINE_RULE if fetch else CertificateFetchingRule.NEVER_FETCH
                    ),
                ),
                local_knowledge=local,
                key_usage_settings=KEY_USAGE,
            ),
            diff_policy=DEFAULT_DIFF_POLICY if self.pyhanko_diff else None,
        )

    def _timing(self) -> ValidationTimingInfo:
        if self.options.at is None:
            return ValidationTimingInfo.now(tz=UTC)
        at = self.options.at
        return ValidationTimingInfo(validation_time=at, best_signature_time=at, point_in_time_validation=True)

    async def _validate_signature(self, entry: _Entry, spec: PdfSignatureValidationSpec) -> None:
        sig = entry.sig
        assert sig is not None
        sig.compute_integrity_info(spec.diff_policy, skip_diff=spec.diff_policy is None)
        try:
            result = await ades_lta_validation(sig, spec, timing_info=self._timing())
        except Exception as exc:
            # pyHanko could not finish (e.g. an OCSP response it cannot match): say what we know
            logger.debug("AdES validation of %s failed", entry.name, exc_info=True)
            checked = await self._crypto_only(sig)
            entry.intact = entry.crypto_valid = entry.hash_ok = bool(checked)
            with contextlib.suppress(Exception):
                entry.signing_time = sig.self_reported_timestamp
            if checked is False:
                self._apply_ades(entry, AdESFailure.HASH_FAILURE, None, None)
                return
            # None: the container could not even be read for the digest (reported as a format
            # failure by the structure checks); claiming the signed bytes changed would be false
            entry.ades_status = AdESStatus.INDETERMINATE
            entry.subindic = entry.subindic or AdESIndeterminate.GENERIC.name
            entry.reasons.append(Reason.of("validation_other", subindication="GENERIC", detail=_short(exc)))
            return
        status = result.api_status
        indic: AdESSubIndic = result.ades_subindic
        if status is not None:
            entry.path = status.validation_path
            entry.intact = bool(status.intact and status.valid)
            entry.hash_ok = bool(status.intact)
            entry.crypto_valid = bool(status.valid)
            entry.signing_time = status.signer_reported_dt or sig.self_reported_timestamp
            ts = status.timestamp_validity
            if ts is not None:
                self._note_timestamp(entry, ts.signing_cert, ts.timestamp, ts.intact and ts.valid, ts.trusted)
            else:
                await self._signature_timestamp(entry, spec)
            if status.revocation_details is not None:
                entry.revocation = Revocation.REVOKED
            if status.seed_value_constraint_error is not None:
                entry.reasons.append(Reason.of("seed_value", detail=_short(status.seed_value_constraint_error)))
                if indic is AdESPassed.OK:
                    indic = AdESIndeterminate.SIG_CONSTRAINTS_FAILURE
        else:
            entry.signing_time = sig.self_reported_timestamp
            await self._signature_timestamp(entry, spec)
        if indic in (AdESIndeterminate.CHAIN_CONSTRAINTS_FAILURE, AdESIndeterminate.CERTIFICATE_CHAIN_GENERAL_FAILURE):
            entry.chain_problem = await self._diagnose_chain(sig, spec)
        details = getattr(status, "revocation_details", None)
        if details is not None and indic not in (AdESFailure.REVOKED,):
            # revoked, and no proof the signature existed before the revocation (a signature
            # time-stamp only proves it existed by then, not that it was made after): ETSI EN
            # 319 102-1 says INDETERMINATE/REVOKED_NO_POE, pyHanko may have stopped at NO_POE
            when = details.revocation_date
            if indic.status is not AdESStatus.FAILED:
                entry.revocation = Revocation.REVOKED
                entry.reasons.append(
                    Reason.of("revoked", date=when, why=str(details.revocation_reason.native or "unspecified"))
                )
                indic = (
                    AdESIndeterminate.REVOKED_NO_POE if not details.ca_revoked else AdESIndeterminate.REVOKED_CA_NO_POE
                )
                entry.subindic = None
                self._apply_ades(entry, indic, "nothing proves the signature was made before the revocation", status)
                return
        self._apply_ades(entry, indic, result.failure_msg, status)

    async def _diagnose_chain(self, sig: _Sig, spec: PdfSignatureValidationSpec) -> str | None:
        """Why the chain failed, in the certificate validator's words (the AdES result only
        carries the sub-indication)."""
        from pyhanko_certvalidator.validate import async_validate_path

        try:
            cert = sig.signer_cert
            KEY_USAGE.validate(cert)
        except Exception as exc:
            return f"key usage: {_short(exc)}"
        try:
            sv = spec.signature_validation_spec
            from pyhanko.sign.validation.policy_decl import bootstrap_validation_data_handlers

            handlers = bootstrap_validation_data_handlers(sv, timing_info=self._timing())
            handlers.cert_registry.register_multiple(sig.other_embedded_certs)
            vc = sv.cert_validation_policy.build_validation_context(timing_info=self._timing(), handlers=handlers)
            paths = await vc.path_builder.async_build_paths(cert)
            if not paths:
                return None
            await async_validate_path(vc, paths[0])
        except Exception as exc:
            return str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        return None

    def _note_timestamp(self, entry: _Entry, tsa_cert: Any, when: datetime, sound: bool, trusted: bool) -> None:
        if sound:
            entry.timestamp = when
            entry.reasons.append(Reason.of("timestamp_valid", tsa=_cn(tsa_cert), time=when))
            if not trusted:
                entry.reasons.append(Reason.of("timestamp_untrusted", tsa=_cn(tsa_cert)))
        else:
            entry.reasons.append(Reason.of("timestamp_invalid", detail="its digest or signature value is wrong"))

    async def _signature_timestamp(self, entry: _Entry, spec: PdfSignatureValidationSpec) -> None:
        """The signature time-stamp, checked on its own when the AdES validation stopped early."""
        sig = entry.sig
        assert sig is not None
        tokens = list(generic_cms.extract_tst_data_iter(sig.signer_info, signed=False))
        if not tokens:
            if entry.signing_time is not None:
                entry.reasons.append(Reason.of("no_timestamp", time=entry.signing_time))
            return
        vc = spec.signature_validation_spec.cert_validation_policy.build_validation_context(
            timing_info=self._timing(), handlers=None
        )
        try:
            kwargs = await generic_cms.validate_tst_signed_data(
                tokens[0], vc, generic_cms.message_imprint_checker(sig.signer_info)
            )
        except Exception as exc:
            entry.reasons.append(Reason.of("timestamp_invalid", detail=_short(exc)))
            return
        sound = bool(kwargs.get("intact") and kwargs.get("valid"))
        trusted = kwargs.get("validation_path") is not None and kwargs.get("trust_problem_indic") is None
        self._note_timestamp(entry, kwargs.get("signing_cert"), kwargs["timestamp"], sound, trusted)

    def _apply_ades(self, entry: _Entry, indic: AdESSubIndic, failure_msg: str | None, status: Any) -> None:
        entry.ades_status = indic.status
        name = indic.standard_name if not isinstance(indic, AdESPassed) else None
        if entry.subindic is None:
            entry.subindic = name
        detail = (failure_msg or "").strip().splitlines()[0][:200] if failure_msg else ""
        if indic is AdESFailure.HASH_FAILURE:
            entry.reasons.append(Reason.of("hash_failure"))
        elif indic is AdESFailure.SIG_CRYPTO_FAILURE:
            entry.reasons.append(Reason.of("sig_crypto_failure"))
        elif indic in (AdESFailure.REVOKED,):
            entry.revocation = Revocation.REVOKED
            details = getattr(status, "revocation_details", None)
            if details is not None:
                why = str(details.revocation_reason.native or "unspecified").replace("_", " ")
                entry.reasons.append(Reason.of("revoked", date=details.revocation_date, why=why))
            else:
                entry.reasons.append(Reason.of("revoked", date="?", why=detail or "unspecified"))
        elif indic in (AdESIndeterminate.REVOKED_NO_POE, AdESIndeterminate.REVOKED_CA_NO_POE):
            entry.revocation = Revocation.REVOKED
            entry.reasons.append(Reason.of("revoked_no_poe", detail=detail))
        elif indic is AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND:
            if not self.anchors:
                entry.reasons.append(Reason.of("no_trust_anchor_given"))
            else:
                entry.reasons.append(Reason.of("no_chain", count=len(self.anchors)))
        elif indic is AdESIndeterminate.NO_SIGNING_CERTIFICATE_FOUND:
            entry.reasons.append(Reason.of("no_signing_certificate"))
        elif indic in (
            AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE,
            AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
        ):
            entry.reasons.append(Reason.of("crypto_constraints", detail=detail or "weak algorithm"))
        elif indic is AdESIndeterminate.EXPIRED:
            entry.reasons.append(Reason.of("expired", detail=detail))
        elif indic in (AdESIndeterminate.NOT_YET_VALID, AdESFailure.NOT_YET_VALID):
            entry.reasons.append(Reason.of("not_yet_valid", detail=detail))
        elif indic is AdESIndeterminate.TRY_LATER:
            entry.reasons.append(Reason.of("revocation_missing", detail=detail))
        elif indic in (
            AdESIndeterminate.OUT_OF_BOUNDS_NO_POE,
            AdESIndeterminate.OUT_OF_BOUNDS_NOT_REVOKED,
            AdESIndeterminate.REVOCATION_OUT_OF_BOUNDS_NO_POE,
        ):
            entry.reasons.append(Reason.of("out_of_bounds", detail=detail))
        elif indic in (
            AdESIndeterminate.CHAIN_CONSTRAINTS_FAILURE,
            AdESIndeterminate.CERTIFICATE_CHAIN_GENERAL_FAILURE,
        ):
            why = entry.chain_problem or detail
            if "revocation information" in why.lower() or "revocation info" in why.lower():
                entry.reasons.append(Reason.of("revocation_missing", detail=why))
            elif "key usage" in why.lower() or "extended key" in why.lower():
                entry.reasons.append(Reason.of("key_usage", detail=why))
            elif "expired" in why.lower():
                entry.reasons.append(Reason.of("expired", detail=why))
            elif "not valid until" in why.lower() or "not yet valid" in why.lower():
                entry.reasons.append(Reason.of("not_yet_valid", detail=why))
            elif "key usage" in detail.lower() or "extended key" in detail.lower():
                entry.reasons.append(Reason.of("key_usage", detail=detail))
            else:
                entry.reasons.append(Reason.of("chain_constraints", detail=detail))
        elif indic is AdESPassed.OK:
            if entry.revocation is Revocation.UNKNOWN:
                entry.revocation = Revocation.GOOD
            entry.reasons.append(Reason.of("revocation_good"))
        else:
            entry.reasons.append(Reason.of("validation_other", subindication=indic.standard_name, detail=detail))

    async def _validate_doc_timestamp(self, entry: _Entry, spec: PdfSignatureValidationSpec) -> None:
        sig = entry.sig
        assert sig is not None
        sig.compute_integrity_info(spec.diff_policy, skip_diff=spec.diff_policy is None)
        tst_info = sig.signed_data["encap_content_info"]["content"].parsed
        gen_time = tst_info["gen_time"].native
        entry.signing_time = entry.timestamp = gen_time
        result = await ades_timestamp_validation(
            sig.signed_data,
            spec.signature_validation_spec,
            expected_tst_imprint=lambda algo: sig.compute_digest(algo),
            timing_info=self._timing(),
            extra_status_kwargs=sig.summarise_integrity_info(),
            status_cls=DocumentTimestampStatus,
        )
        status = result.api_status
        if status is not None:
            entry.intact = bool(status.intact and status.valid)
            entry.hash_ok = bool(status.intact)
            entry.crypto_valid = bool(status.valid)
            with contextlib.suppress(Exception):
                entry.signer = _signer_of(status.signing_cert)
        indic = result.ades_subindic
        if indic is AdESFailure.HASH_FAILURE:
            entry.ades_status = indic.status
            entry.subindic = entry.subindic or indic.standard_name
            entry.reasons.append(Reason.of("doc_timestamp_imprint"))
            entry.timestamp = None
            return
        entry.reasons.append(Reason.of("doc_timestamp", tsa=entry.signer.name or "?", time=gen_time))
        self._apply_ades(entry, indic, result.failure_msg, status)

    async def _validate_sha1(self, entry: _Entry, spec: PdfSignatureValidationSpec) -> None:
        """``adbe.pkcs7.sha1``: the CMS signs the SHA-1 digest of the byte range as its content."""
        sig = entry.sig
        assert sig is not None
        sig.compute_integrity_info(spec.diff_policy, skip_diff=spec.diff_policy is None)
        content = sig.signed_data["encap_content_info"]["content"]
        embedded = content.native if content is not None else None
        actual = sig.compute_digest("sha1")
        status = await generic_cms.async_validate_cms_signature(
            sig.signed_data,
            validation_context=spec.signature_validation_spec.cert_validation_policy.build_validation_context(
                timing_info=self._timing(),
                handlers=None,
            ),
            key_usage_settings=KEY_USAGE,
        )
        entry.hash_ok = embedded == actual and bool(status.intact)
        entry.crypto_valid = bool(status.valid)
        entry.intact = entry.hash_ok and entry.crypto_valid
        entry.signing_time = sig.self_reported_timestamp
        if not entry.hash_ok:
            indic: AdESSubIndic = AdESFailure.HASH_FAILURE
        elif not entry.crypto_valid:
            indic = AdESFailure.SIG_CRYPTO_FAILURE
        elif status.trust_problem_indic is not None:
            indic = status.trust_problem_indic
        elif status.validation_path is None:
            indic = AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND
        else:
            # SHA-1 is not acceptable for new signatures: the same policy pyHanko applies elsewhere
            indic = AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE
        self._apply_ades(
            entry, indic, "SHA-1 digest (adbe.pkcs7.sha1)" if indic.status is not AdESStatus.FAILED else None, status
        )

    async def _crypto_only(self, sig: _Sig) -> bool | None:
        """Digest and signature value of one more SignerInfo (no trust decision); None when
        they cannot be checked at all (no readable signer certificate or container)."""
        try:
            cert = sig.signer_cert
            intact, valid = generic_cms.validate_sig_integrity(
                sig.signer_info, cert, expected_content_type="data", actual_digest=sig.compute_digest()
            )
        except Exception:
            return None
        return bool(intact and valid)

    async def _chain(self, entry: _Entry) -> None:
        """Is there a path from the signer's certificate to one of the anchors? (for ``trusted``)."""
        sig = entry.sig
        if sig is None or not self.anchors:
            return
        paths = [entry.path] if entry.path is not None else []
        if not paths:  # the validation stopped before it had a path: look for one
            try:
                cert = sig.signer_cert
                extra = list(sig.other_embedded_certs) + self._dss_certs()
                registry = CertificateRegistry.build(certs=extra)
                builder = PathBuilder(SimpleTrustManager.build(trust_roots=list(self.anchors)), registry)
                paths = await builder.async_build_paths(cert)
            except Exception:
                return
        if paths:
            path = paths[0]
            entry.trusted = True
            entry.chain = (
                tuple(c.subject.human_friendly for c in path.iter_certs(include_root=True))[::-1]
                if hasattr(path, "iter_certs")
                else ()
            )
            anchor = path.trust_anchor.authority.name.human_friendly
            if not any(r.code == "trusted_chain" for r in entry.reasons):
                entry.reasons.insert(0, Reason.of("trusted_chain", anchor=anchor))

    def _dss_certs(self) -> list[x509.Certificate]:
        if self._dss_cert_list is None:
            self._dss_cert_list = _dss_certs(self.reader)
        return self._dss_cert_list

    # -- 4. changes after the signature ------------------------------------------------------------

    def _changes_after(self, entry: _Entry) -> None:
        sig = entry.sig
        if sig is None or entry.fatal:
            entry.modifications = Modifications.OTHER if entry.fatal else Modifications.NONE
            return
        if entry.coverage is Coverage.ENTIRE_FILE:
            entry.modifications = Modifications.NONE
            entry.reasons.append(Reason.of("covers_entire_file"))
            return
        revision = sig.signed_revision
        diff = sig.diff_result
        docmdp = None
        with contextlib.suppress(Exception):
            docmdp = sig.docmdp_level
        if isinstance(diff, DiffResult):
            kind = _from_pyhanko(diff, sig, self.reader)
            # pyHanko's rules accept a few changes a reader would not (a signed widget hidden or
            # its appearance redefined, the page's annotations reordered): edoc's own comparison
            # must agree, else it decides
            summary = None
            with contextlib.suppress(Exception):
                summary = self.classifier.after(revision)
            if summary is not None and summary.orphans:
                entry.unsigned_objects = summary.orphans
            if summary is None or summary.too_complex or not _stricter(summary, kind):
                self._describe_changes(entry, kind, sorted(diff.changed_form_fields), (), ())
                return
        else:
            # pyHanko could not justify every change: edoc's own comparison decides
            try:
                summary = self.classifier.after(revision)
            except Exception as exc:
                entry.modifications = Modifications.OTHER
                entry.other_changes = True
                entry.reasons.append(Reason.of("later_other_unknown", detail=_short(exc)))
                return
        kind = _from_kind(summary.kind)
        entry.unsigned_objects = summary.orphans
        if summary.scripts:
            entry.reasons.append(Reason.of("scripts_added", detail=", ".join(summary.scripts[:4])))
        if summary.hidden:
            entry.reasons.append(Reason.of("hidden_appearance", detail=", ".join(summary.hidden[:3])))
            entry.declared_visible = True
        locked: list[str] = []
        fieldmdp = None
        with contextlib.suppress(Exception):
            fieldmdp = sig.fieldmdp
        if fieldmdp is not None:
            locked = sorted(name for name in summary.changed_fields if fieldmdp.is_locked(name))
        for name in locked[:5]:
            entry.reasons.append(Reason.of("fieldmdp_violation", name=name))
        if locked:
            entry.other_changes = True
        allowed = _allowed_by_docmdp(docmdp)
        if allowed is not None and summary.kind > allowed:
            entry.reasons.append(
                Reason.of("docmdp_violation", allowed=_kind_words(allowed), found=_kind_words(summary.kind))
            )
            entry.other_changes = True
        self._describe_changes(entry, kind, sorted(summary.changed_fields), summary.details, summary.scripts)

    def _describe_changes(
        self, entry: _Entry, kind: Modifications, fields: list[str], details: Sequence[str], scripts: Sequence[str]
    ) -> None:
        entry.modifications = kind
        if kind is Modifications.NONE:
            return
        if kind is Modifications.SIGNATURES:
            entry.reasons.append(Reason.of("later_signatures_only"))
        elif kind is Modifications.FORM_FILLING:
            entry.reasons.append(Reason.of("later_form_filling", fields=", ".join(fields[:6]) or "-"))
        elif kind is Modifications.ANNOTATIONS:
            entry.reasons.append(Reason.of("later_annotations"))
        else:
            entry.other_changes = True
            entry.reasons.append(Reason.of("later_other", detail="; ".join(list(details)[:3]) or "unexplained objects"))

    # -- levels --------------------------------------------------------------------------------------

    def _levels(self, entries: Sequence[_Entry]) -> None:
        dss_revisions = _dss_revisions(self.reader)
        ts_revisions = [e.revision for e in entries if e.kind is SignatureKind.TIMESTAMP and e.intact and e.revision]
        for entry in entries:
            if entry.kind is not SignatureKind.SIGNATURE or entry.subfilter != PADES or entry.revision is None:
                entry.level = Level.NONE
                continue
            level = Level.B_B
            later_ts = [r for r in ts_revisions if r is not None and r > entry.revision]
            if entry.timestamp is not None or later_ts:
                level = Level.B_T
                later_dss = [r for r in dss_revisions if r >= entry.revision]
                if later_dss:
                    level = Level.B_LT
                    if any(ts > min(later_dss) for ts in later_ts):
                        level = Level.B_LTA
            entry.level = level

    # -- 5. what a reader sees ---------------------------------------------------------------------

    def _visual(self, entries: Sequence[_Entry]) -> None:
        from edoc.signing.verify import visual

        for entry in entries:
            if entry.sig is not None:
                with contextlib.suppress(Exception):
                    found = visual.widget_of(self.reader, entry.sig.sig_field)
                    if found is not None:
                        entry.widget, entry.widget_revision = found
        todo = [
            e
            for e in entries
            if e.sig is not None and e.range_end is not None and not e.fatal and e.coverage is not Coverage.ENTIRE_FILE
        ]
        if not todo:
            return
        try:
            regions = visual.Regions.from_reader(self.reader)
        except Exception as exc:
            for entry in todo:
                entry.reasons.append(Reason.of("visual_failed", detail=_short(exc)))
                entry.declared_visible = True
            return
        jobs = []
        allowed_by: list[list[_Entry]] = []
        for entry in todo:
            index = entries.index(entry)
            later_ok = [e for e in entries[index + 1 :] if _appearance_allowed(e)]
            allowed: dict[int, list[visual.Rect]] = {}
            for e in later_ok:
                assert e.widget is not None
                allowed.setdefault(e.widget[0], []).append(e.widget[1])
            declared = regions.changed_after(entry.revision if entry.revision is not None else 0)
            assert entry.range_end is not None
            jobs.append(visual.Job(entry.range_end, allowed, declared))
            allowed_by.append(later_ok)
        comparer = visual.Comparer(self.data, keep_images=self.options.keep_images)
        try:
            outcomes = comparer.compare_all(jobs)
        finally:
            comparer.close()
        for entry, outcome, later_ok in zip(todo, outcomes, allowed_by, strict=True):
            self._apply_visual(entry, outcome, later_ok)

    def _apply_visual(self, entry: _Entry, outcome: Any, later_ok: Sequence[_Entry]) -> None:
        if outcome.error:
            entry.reasons.append(Reason.of("visual_failed", detail=outcome.error))
            entry.declared_visible = True
            return
        entry.page_changes.extend(outcome.changes)
        if outcome.pages_before != outcome.pages_after:
            entry.reasons.append(Reason.of("pages_changed", before=outcome.pages_before, after=outcome.pages_after))
            entry.unexplained_visible = True
        for change in outcome.changes:
            if change.kind is ChangeKind.UNEXPLAINED:
                entry.unexplained_visible = True
                entry.reasons.append(Reason.of("visual_unexplained", page=change.page))
            elif change.kind is ChangeKind.DECLARED:
                entry.declared_visible = True
                entry.reasons.append(Reason.of("visual_declared", page=change.page))
            elif outcome.pages_before == outcome.pages_after:
                entry.unexplained_visible = True
                entry.reasons.append(Reason.of("page_resized", page=change.page))
        if not outcome.changes and outcome.pages_before == outcome.pages_after:
            entry.reasons.append(Reason.of("visual_unchanged", except_note="signatures" if outcome.masked else ""))
            for other in later_ok:
                masked = other.widget is not None and other.widget[0] in outcome.masked_pages
                if masked and other.widget is not None and other.ades_status is not AdESStatus.PASSED:
                    entry.reasons.append(
                        Reason.of("later_signature_unconfirmed", other=other.name, page=other.widget[0])
                    )

    # -- verdicts ----------------------------------------------------------------------------------

    def _verdict(self, e: _Entry) -> SignatureReport:
        indication, sub = _indication(e)
        reasons = list(e.reasons)
        if indication is Indication.TOTAL_PASSED:
            reasons.insert(0, Reason.of("passed"))
        for r in e.fatal:
            if r not in reasons:
                reasons.insert(0, r)
        if e.intact and not e.fatal and not any(r.code == "intact" for r in reasons):
            reasons.insert(0, Reason.of("intact"))
        if indication is Indication.INDETERMINATE and sub == AdESIndeterminate.SIG_CONSTRAINTS_FAILURE.name:
            if e.unsigned_tail:
                reasons.append(Reason.of("unsigned_tail", count=e.unsigned_tail))
            if e.unsigned_objects:
                reasons.append(Reason.of("unsigned_objects", count=e.unsigned_objects))
            if e.misplaced_xrefs:
                reasons.append(Reason.of("xref_misplaced", count=e.misplaced_xrefs))
            if e.modifications in (Modifications.FORM_FILLING, Modifications.ANNOTATIONS) and not (
                e.declared_visible or _entry_visible(e)
            ):
                reasons.append(Reason.of("unsigned_additions", kinds=e.modifications.value))
        if self.options.at is not None:
            reasons.append(Reason.of("validated_at", time=self.options.at))
        if not self.options.visual and e.modifications is not Modifications.NONE:
            reasons.append(Reason.of("visual_skipped"))
        return SignatureReport(
            field=e.name,
            kind=e.kind,
            signer=e.signer,
            signing_time=e.signing_time,
            timestamp=e.timestamp,
            level=e.level,
            intact=bool(e.intact and not e.fatal),
            trusted=e.trusted,
            revocation=e.revocation,
            coverage=e.coverage if not e.fatal else Coverage.PARTIAL,
            modifications_after=e.modifications,
            visual_change_after=e.unexplained_visible or _entry_visible(e),
            indication=indication,
            subindication=sub,
            reasons=tuple(_dedupe(reasons)),
            revision=e.revision,
            chain=e.chain,
            page_changes=tuple(e.page_changes),
            widget=e.widget,
        )

    def _after_last(self, entries: Sequence[_Entry]) -> None:
        """Changes after the last signature are signed by nobody: say so at file level."""
        sound = [e for e in entries if e.sig is not None and not e.fatal]
        if not sound:
            return
        last = sound[-1]
        if last.modifications in (Modifications.FORM_FILLING, Modifications.ANNOTATIONS, Modifications.OTHER):
            self.file_reasons.append(Reason.of("changed_after_last_signature", kinds=last.modifications.value))


def _entry_visible(e: _Entry) -> bool:
    return any(c.kind in (ChangeKind.DECLARED, ChangeKind.UNEXPLAINED, ChangeKind.PAGES) for c in e.page_changes)


def _appearance_allowed(e: _Entry) -> bool:
    """A later signature whose appearance may change a page: intact, sound, and its widget
    drawn no later than the revision it signed (so its signature vouches for it)."""
    return (
        e.widget is not None
        and e.intact
        and not e.fatal
        and not e.other_changes
        and e.widget_revision is not None
        and e.revision is not None
        and e.widget_revision <= e.revision
    )


def _indication(e: _Entry) -> tuple[Indication, str | None]:
    """ETSI indication for one signature.

    Order of precedence: a broken structure or container (FORMAT_FAILURE), a wrong digest
    (HASH_FAILURE), a wrong signature value (SIG_CRYPTO_FAILURE), revocation (REVOKED), changes
    after signing that nothing allows or that alter what a reader sees outside later
    signatures (FORMAT_FAILURE), then pyHanko's AdES verdict on trust and time. A visible
    change that is declared (comments, form entries) makes a passing signature INDETERMINATE:
    a change a reader would see is never TOTAL-PASSED; nor is one a reader would not see
    (comments or fields after signing, bytes after the last ``%%EOF``): only later signatures,
    time-stamps and validation data may follow a TOTAL-PASSED signature.
    """
    if e.fatal:
        if e.subindic == AdESFailure.HASH_FAILURE.name:
            return Indication.TOTAL_FAILED, e.subindic
        return Indication.TOTAL_FAILED, AdESFailure.FORMAT_FAILURE.name
    if e.ades_status is AdESStatus.FAILED:
        return Indication.TOTAL_FAILED, e.subindic
    if e.other_changes or e.unexplained_visible:
        return Indication.TOTAL_FAILED, AdESFailure.FORMAT_FAILURE.name
    if e.ades_status is None:
        return Indication.INDETERMINATE, e.subindic or AdESIndeterminate.GENERIC.name
    if e.ades_status is AdESStatus.INDETERMINATE:
        return Indication.INDETERMINATE, e.subindic
    if e.declared_visible or _entry_visible(e):
        return Indication.INDETERMINATE, AdESIndeterminate.SIG_CONSTRAINTS_FAILURE.name
    if not e.intact:
        return Indication.TOTAL_FAILED, AdESFailure.SIG_CRYPTO_FAILURE.name
    if (
        e.modifications not in (Modifications.NONE, Modifications.SIGNATURES)
        or e.unsigned_tail
        or e.unsigned_objects
        or e.misplaced_xrefs
    ):
        # comments, form entries or appended bytes that nobody signed: even when nothing shows
        # on screen (a hidden or off-page annotation, garbage after %%EOF) the file is not
        # byte for byte what was signed plus signatures and validation data
        return Indication.INDETERMINATE, AdESIndeterminate.SIG_CONSTRAINTS_FAILURE.name
    return Indication.TOTAL_PASSED, None


def _dedupe(reasons: list[Reason]) -> list[Reason]:
    seen: set[Reason] = set()
    out = []
    for r in reasons:
        if r not in seen:
            seen.add(r)
            out.append(r)
    return out


# --- helpers ----------------------------------------------------------------------------------------


def _signer_of(cert: x509.Certificate) -> Signer:
    subject = cert.subject.native
    issuer = cert.issuer.native
    return Signer(
        name=_first(subject.get("common_name")),
        organisation=_first(subject.get("organization_name")),
        serial=format(cert.serial_number, "x"),
        issuer=_first(issuer.get("common_name")) or cert.issuer.human_friendly,
    )


def _cn(cert: x509.Certificate | None) -> str:
    """The certificate's common name for messages; "?" when it has none that can be read (a
    damaged certificate is named in a reason, so reading its name must not fail)."""
    if cert is None:
        return "?"
    try:
        return _first(cert.subject.native.get("common_name")) or cert.subject.human_friendly
    except Exception:
        return "?"


def _first(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return None if value is None else str(value)


KNOWN_DIGESTS = frozenset(
    {
        "md5",
        "sha1",
        "sha224",
        "sha256",
        "sha384",
        "sha512",
        "sha512_224",
        "sha512_256",
        "sha3_224",
        "sha3_256",
        "sha3_384",
        "sha3_512",
        "shake128",
        "shake256",
    }
)


def _container_problem(sig: _Sig, kind: SignatureKind, subfilter: str | None) -> Reason | None:
    """Structural faults of the CMS container that no later check would name clearly."""
    digest = sig.signer_info["digest_algorithm"]["algorithm"].native
    if digest not in KNOWN_DIGESTS:
        return Reason.of("unknown_algorithm", algorithm=digest)
    if kind is SignatureKind.SIGNATURE and subfilter != PKCS7_SHA1:
        content = sig.signed_data["encap_content_info"]["content"]
        if content is not None and content.native is not None:
            return Reason.of(
                "cms_unreadable", detail="the container carries content of its own; a PDF signature must be detached"
            )
    try:
        cert = sig.signer_cert
    except Exception:
        return None  # reported as NO_SIGNING_CERTIFICATE_FOUND by the validation
    try:
        from cryptography import x509 as cx509

        cx509.load_der_x509_certificate(cert.dump())
    except Exception as exc:
        return Reason.of("cms_unreadable", detail=f"the signer's certificate is not validly encoded ({_short(exc)})")
    return None


def _envelope_problem(sig: _Sig, known: Sequence[x509.Certificate]) -> Reason | None:
    """Damage in the parts of the CMS container that its signature does not cover.

    The certificates a container carries, the list of digest algorithms it declares, and the
    unsigned attributes (the signature time-stamp token, itself a container) are outside the
    signed attributes: a flipped byte there leaves the signature value valid. A signer never
    writes a container whose own certificates do not verify, or that does not declare the
    digest its signer used (RFC 5652, 5.1): such a container was altered after signing.
    """
    containers = [sig.signed_data]
    with contextlib.suppress(Exception):
        containers.extend(generic_cms.extract_tst_data_iter(sig.signer_info, signed=False))
    for signed_data in containers:
        try:
            declared = {a["algorithm"].native for a in signed_data["digest_algorithms"]}
            used = {si["digest_algorithm"]["algorithm"].native for si in signed_data["signer_infos"]}
        except Exception as exc:
            return Reason.of("cms_unreadable", detail=_short(exc))
        if not used <= declared:
            return Reason.of(
                "cms_unreadable",
                detail="the container does not declare the digest algorithm its signer used; it was altered",
            )
        odd = _odd_parameters(signed_data)
        if odd is not None:
            return Reason.of("cms_unreadable", detail=f"{odd}; it was altered")
        try:
            version = _version_problem(signed_data)
            damaged = _damaged_certificate(signed_data, known)
        except Exception as exc:  # a certificate or CRL in the container that does not parse
            return Reason.of("cms_unreadable", detail=f"{_short(exc)}; it was altered")
        if version is not None:
            return Reason.of("cms_unreadable", detail=f"{version}; it was altered")
        if damaged is not None:
            return Reason.of(
                "cms_unreadable",
                detail=f"the certificate '{damaged}' it carries does not verify against its issuer; it was altered",
            )
    return None


def _odd_parameters(signed_data: cms.SignedData) -> str | None:
    """Which unsigned algorithm identifier of the container has parameters no signer writes.

    The declared digest algorithms and each SignerInfo's digest and signature algorithms are
    outside the signed attributes. Their parameters are absent, NULL (``05 00``), or a
    structure (RSASSA-PSS); a parser looking up a hash by its OID ignores anything else, so
    ``05 00`` turned into another empty element would pass unnoticed."""
    from asn1crypto import parser

    algorithms = [("a declared digest algorithm", a) for a in signed_data["digest_algorithms"]]
    for info in signed_data["signer_infos"]:
        algorithms.append(("the signer's digest algorithm", info["digest_algorithm"]))
        algorithms.append(("the signature algorithm", info["signature_algorithm"]))
    for label, algorithm in algorithms:
        try:
            content = parser.parse(algorithm.dump())[4]
            _oid, end = parser._parse(content, len(content))  # asn1crypto's reader at an offset
            params = content[end:]
            # absent, NULL, or exactly one constructed element (parse raises on anything else)
            fine = params in (b"", b"\x05\x00") or (bool(params[0] & 0x20) and bool(parser.parse(params, strict=True)))
        except (ValueError, TypeError, IndexError):
            fine = False
        if not fine:
            return f"{label} has parameters that are neither absent, NULL nor a structure"
    return None


def _damaged_certificate(signed_data: cms.SignedData, known: Sequence[x509.Certificate]) -> str | None:
    """The name of a certificate in ``signed_data`` that was altered; None if none was.

    Altered: its issuer (in the container, the DSS or the trust anchors, matched by name and
    key identifier) rejects its signature and none accepts it; its outer signature algorithm
    differs from the one its signed part names (RFC 5280, 4.1.1.2); or it is a known
    certificate (same serial number and issuer, or serial number and subject, as one in the
    DSS or the anchors) with different bytes.
    """
    from cryptography import x509 as cx509

    carried = [c.chosen for c in (signed_data["certificates"] or []) if c.name == "certificate"]
    if not carried:
        return None
    pool: dict[bytes, list[x509.Certificate]] = {}
    for cert in (*carried, *known):
        with contextlib.suppress(Exception):
            pool.setdefault(cert.subject.dump(), []).append(cert)
    known_ids: dict[tuple[int, bytes], bytes] = {}
    for cert in known:
        with contextlib.suppress(Exception):
            known_ids[(cert.serial_number, b"i" + cert.issuer.dump())] = cert.dump()
            known_ids[(cert.serial_number, b"s" + cert.subject.dump())] = cert.dump()
    for cert in carried:
        try:
            raw = cert.dump()
            cx509.load_der_x509_certificate(raw)  # strictly DER, or it was altered
            if cert["signature_algorithm"].dump() != cert["tbs_certificate"]["signature"].dump():
                return _cn(cert)
            for key in (
                (cert.serial_number, b"i" + cert.issuer.dump()),
                (cert.serial_number, b"s" + cert.subject.dump()),
            ):
                if key in known_ids and known_ids[key] != raw:
                    return _cn(cert)
            issuers = pool.get(cert.issuer.dump(), [])
            aki = cert.authority_key_identifier
        except Exception:
            return _cn(cert)
        candidates = [i for i in issuers if aki is None or i.key_identifier in (None, aki)]
        verdicts: list[bool | None] = []
        for issuer in candidates:
            try:
                verdicts.append(_issued_by(raw, issuer.dump()))
            except Exception:
                verdicts.append(None)
        if False in verdicts and True not in verdicts:
            return _cn(cert)
    return None


@functools.lru_cache(maxsize=512)
def _issued_by(raw: bytes, issuer_raw: bytes) -> bool | None:
    """Does the certificate ``raw`` verify against ``issuer_raw``? None: an algorithm or key we
    cannot check here (no evidence either way). A pure function of the two encodings, so
    remembered: every signature of a file carries the same chain."""
    from cryptography import x509 as cx509
    from cryptography.exceptions import InvalidSignature

    try:
        cx509.load_der_x509_certificate(raw).verify_directly_issued_by(cx509.load_der_x509_certificate(issuer_raw))
        return True
    except InvalidSignature:
        return False
    except Exception:
        return None


def _version_problem(signed_data: cms.SignedData) -> str | None:
    """RFC 5652 fixes the version numbers of SignedData (5.1) and SignerInfo (5.3) from the
    content; they are not signed, so a wrong one means the container was altered."""
    infos = list(signed_data["signer_infos"])
    for info in infos:
        expected = 3 if info["sid"].name == "subject_key_identifier" else 1
        if info["version"].native != f"v{expected}":
            return f"SignerInfo version {info['version'].native}, expected v{expected}"
    certs = signed_data["certificates"]
    crls = signed_data["crls"]
    kinds = {c.name for c in certs} if certs else set()
    crl_kinds = {c.name for c in crls} if crls else set()
    if "other" in kinds or "other" in crl_kinds:
        expected = 5
    elif "v2_attr_cert" in kinds:
        expected = 4
    elif (
        "v1_attr_cert" in kinds
        or any(i["version"].native == "v3" for i in infos)
        or signed_data["encap_content_info"]["content_type"].native != "data"
    ):
        expected = 3
    else:
        expected = 1
    found = signed_data["version"].native
    # the plain case (X.509 certificates, v1 SignerInfos, detached data) must say v1; beyond it
    # real signers disagree on the details (DSS's AD-RB.pdf says v3 where v4 is due): any of
    # the higher versions is accepted there
    if (expected == 1 and found != "v1") or (expected > 1 and found not in ("v3", "v4", "v5")):
        return f"SignedData version {found}, expected v{expected}"
    return None


def _signed_attrs_der(signer_info: cms.SignerInfo) -> bool:
    """True if the signed attributes are in DER order (CMS signs their DER encoding).

    A SET OF must list its elements sorted by their encodings (X.690 11.6). Signers that
    sign a non-DER order produce a signature over bytes a strict verifier (such as DSS)
    never reconstructs: the signature is not valid.
    """
    attrs = signer_info["signed_attrs"]
    try:
        encodings = [a.dump() for a in attrs]
    except Exception:
        return False
    if not encodings:
        return True
    width = max(len(x) for x in encodings)
    padded = [x.ljust(width, b"\x00") for x in encodings]
    return padded == sorted(padded)


def _dss_knowledge(reader: PdfFileReader) -> LocalKnowledge:
    from asn1crypto.crl import CertificateList
    from asn1crypto.ocsp import OCSPResponse
    from pyhanko.pdf_utils.decode_limits import DecodePurpose
    from pyhanko_certvalidator.revinfo.archival import CRLContainer, OCSPContainer

    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except (NoDSSFoundError, Exception):
        return LocalKnowledge()
    ocsps = []
    crls = []
    for resp in dss.ocsps:
        with contextlib.suppress(Exception):
            ocsps.extend(
                OCSPContainer.load_multi(OCSPResponse.load(resp.get_object().read_data(DecodePurpose.OCSP_RESPONSE)))
            )
    for crl in dss.crls:
        with contextlib.suppress(Exception):
            crls.append(CRLContainer(crl_data=CertificateList.load(crl.get_object().read_data(DecodePurpose.CRL))))
    certs = []
    with contextlib.suppress(Exception):
        certs = list(dss.load_certs())
    return LocalKnowledge(known_ocsps=ocsps, known_crls=crls, known_certs=certs)


def _dss_certs(reader: PdfFileReader) -> list[x509.Certificate]:
    try:
        return list(DocumentSecurityStore.read_dss(reader).load_certs())
    except Exception:
        return []


def _dss_revisions(reader: PdfFileReader) -> list[int]:
    """Revisions in which a DSS holding revocation data was written."""
    out: list[int] = []
    try:
        root_ref = reader.trailer.raw_get("/Root")
    except Exception:
        return out
    for rev in range(reader.xrefs.total_revisions):
        try:
            hist = reader.get_historical_resolver(rev)
            root = hist.trailer_view["/Root"]
            dss = root.get("/DSS")
            if dss is None:
                continue
            dss = dss.get_object() if isinstance(dss, generic.IndirectObject) else dss
            if not (dss.get("/CRLs") or dss.get("/OCSPs")):
                continue
            refs = hist.explicit_refs_in_revision()
            changed = any(
                isinstance(v, generic.IndirectObject) and v.reference in refs
                for v in (
                    root.raw_get("/DSS"),
                    dss.raw_get("/CRLs") if "/CRLs" in dss else None,
                    dss.raw_get("/OCSPs") if "/OCSPs" in dss else None,
                )
            ) or (isinstance(root_ref, generic.IndirectObject) and root_ref.reference in refs)
            if changed:
                out.append(rev)
        except Exception:
            continue
    return out


def _from_pyhanko(diff: DiffResult, sig: _Sig, reader: PdfFileReader) -> Modifications:
    level = diff.modification_level
    if level is ModificationLevel.NONE:
        return Modifications.NONE
    if level is ModificationLevel.LTA_UPDATES:
        return Modifications.SIGNATURES
    if level is ModificationLevel.FORM_FILLING:
        changed = set(diff.changed_form_fields)
        sig_fields = {str(name) for name, _v, _r in enumerate_sig_fields(reader)}
        return Modifications.SIGNATURES if changed <= sig_fields else Modifications.FORM_FILLING
    if level is ModificationLevel.ANNOTATIONS:
        return Modifications.ANNOTATIONS
    return Modifications.OTHER


def _stricter(summary: change_analysis.ChangeSummary, pyhanko_kind: Modifications) -> bool:
    """True if edoc's comparison finds more than pyHanko's analysis accepted."""
    if summary.scripts or summary.hidden:
        return True
    ours = _from_kind(summary.kind)
    return ours is not pyhanko_kind and worst_modification(ours, pyhanko_kind) is ours


def _from_kind(kind: change_analysis.Kind) -> Modifications:
    k = change_analysis.Kind
    return {
        k.NONE: Modifications.NONE,
        k.LTA: Modifications.SIGNATURES,
        k.SIGN: Modifications.SIGNATURES,
        k.FORM: Modifications.FORM_FILLING,
        k.ANNOT: Modifications.ANNOTATIONS,
        k.OTHER: Modifications.OTHER,
    }[kind]


def _allowed_by_docmdp(perm: MDPPerm | None) -> change_analysis.Kind | None:
    if perm is None:
        return None
    k = change_analysis.Kind
    if perm == MDPPerm.NO_CHANGES:
        return k.LTA
    if perm == MDPPerm.FILL_FORMS:
        return k.FORM
    return k.ANNOT


def _kind_words(kind: change_analysis.Kind) -> str:
    k = change_analysis.Kind
    return {
        k.NONE: "no changes",
        k.LTA: "validation data and time-stamps",
        k.SIGN: "further signatures",
        k.FORM: "form filling and signing",
        k.ANNOT: "comments",
        k.OTHER: "other changes",
    }[kind]


__all__ = ["Options", "analyse", "worst_modification"]
