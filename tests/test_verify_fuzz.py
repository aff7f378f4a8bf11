"""Fuzzing the verifier with mutants of real signed letters: none may pass unless it is the letter.

Three signed letters (``fixtures_fuzz.Letters``: the drafter's initials, then the executive's
signature, then a received stamp; every stage TOTAL-PASSED with the pilot root) are mutated by
hypothesis, one strategy per kind of attack: bytes flipped inside the signed ranges, bytes
flipped outside them (in a ``/Contents`` gap, in the unsigned tail), truncation, appended
updates that change a page's content, overlay an annotation, replace a font or a resource,
reorder or hide widgets, redefine an object the signed revision used (shadow attacks), and
garbage appended. For every mutant:

* the verification finishes (in the sandbox, as ``edoc verify`` runs it) with a verdict and
  reasons, never an exception, a crash or a time-out;
* the file is TOTAL-PASSED only if the mutant is byte for byte the letter or one of its
  earlier revisions (optionally followed by whitespace), and every signature the mutation
  touched is not TOTAL-PASSED.

Examples are derandomized (the same mutants on every run) and sized to keep the file near a
minute and a half. ``test_mutant_gallery`` writes one letter's mutants, one per class, and
prints the verdict and reasons of each (``pytest -s`` shows the table).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edoc.signing.verify import Indication, VerificationReport, verify_pdf
from tests import fixtures_fuzz as fz
from tests import fixtures_verify as fx
from tests.fixtures_fuzz import Letters
from tests.fixtures_verify import Pki

pytestmark = pytest.mark.slow

pki = fx.pki
signing = fx.signing
letters = fz.letters

EXAMPLES = int(os.environ.get("EDOC_FUZZ_EXAMPLES", "9"))
"""Examples per strategy (each is a sandboxed verification of about half a second); set
``EDOC_FUZZ_EXAMPLES`` for a longer campaign."""

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

STAGE = st.sampled_from(["initialled", "executive", "received"])
BROKEN = {"internal_error", "crashed", "timeout", "memory"}


def _verify(mutant: bytes, pki: Pki) -> VerificationReport:
    return verify_pdf(mutant, trust=[pki.pem("root")], timeout=60)


def _sane(report: VerificationReport) -> None:
    """A verdict with reasons; nothing escaped, crashed or hung."""
    codes = {r.code for r in report.reasons} | {r.code for s in report.signatures for r in s.reasons}
    assert not codes & BROKEN, report.to_json()
    assert report.indication in set(Indication)
    assert report.reasons or report.signatures, report.to_json()
    for s in report.signatures:
        assert s.reasons, s.to_json()
        assert s.indication in set(Indication)
        if s.indication is not Indication.TOTAL_PASSED:
            assert s.subindication, s.to_json()


def _judge(original: bytes, mutant: bytes, report: VerificationReport, touched: list[int] | None) -> None:
    """The property: TOTAL-PASSED only for the letter itself; touched signatures never pass.

    ``touched``: indexes (in signing order) of the signatures the mutation reaches; None for
    all of them (an update appended after the last signature reaches every one)."""
    _sane(report)
    allowed = fz.allowed_variants(original)(mutant)
    if report.indication is Indication.TOTAL_PASSED:
        assert allowed, f"a mutant passed: {report.to_json()}"
    if allowed:
        return
    indexes = range(len(report.signatures)) if touched is None else touched
    for i in indexes:
        if i < len(report.signatures):
            sig = report.signatures[i]
            assert sig.indication is not Indication.TOTAL_PASSED, sig.to_json()


def _letter(letters: Letters, stage: str) -> bytes:
    return letters.all()[stage]


def _covering(data: bytes, position: int) -> list[int]:
    """Signatures (in signing order) whose signed bytes include ``position``."""
    return [
        i for i, r in enumerate(fz.byte_ranges(data)) if position < r.end and not r.gap_start <= position < r.gap_end
    ]


# --- byte-level ----------------------------------------------------------------------------------


@FUZZ
@given(stage=STAGE, index=st.integers(0, 1 << 30), mask=st.integers(1, 255))
def test_flip_inside_the_signed_range(letters: Letters, pki: Pki, stage: str, index: int, mask: int) -> None:
    data = _letter(letters, stage)
    position = fz.signed_position(data, index)
    mutant = fz.flip(data, position, mask)
    _judge(data, mutant, _verify(mutant, pki), _covering(data, position))


@FUZZ
@given(
    stage=STAGE,
    where=st.sampled_from(["contents", "contents-padding", "tail", "last-revision"]),
    which=st.integers(0, 5),
    index=st.integers(0, 1 << 30),
    mask=st.integers(1, 255),
)
def test_flip_outside_the_signed_range(
    letters: Letters, pki: Pki, stage: str, where: str, which: int, index: int, mask: int
) -> None:
    data = _letter(letters, stage)
    ranges = fz.byte_ranges(data)
    if where == "contents":
        position = fz.contents_position(data, which, index)
        touched = [which % len(ranges), *_covering(data, position)]
    elif where == "contents-padding":  # the zeros after the container, inside the hex string
        r = ranges[which % len(ranges)]
        position = r.gap_end - 2 - index % 64
        touched = [which % len(ranges), *_covering(data, position)]
    elif where == "tail":  # startxref … %%EOF and the end of line of the last revision
        position = len(data) - 1 - index % 24
        touched = None
    else:  # anywhere in the last revision (validation data nobody signs)
        last = max(r.end for r in ranges)
        position = last + index % (len(data) - last)
        touched = None
    mutant = fz.flip(data, position, mask)
    report = _verify(mutant, pki)
    if where.startswith("contents") and fz.same_hex_digit(data, position, mask):
        # "a" XOR 0x20 is "A": the same signature container, so the letter's own verdict
        _sane(report)
        assert report.indication is Indication.TOTAL_PASSED, report.to_json()
        return
    if where == "last-revision" and data[position] in fz.PDF_WHITESPACE:
        # KNOWN LIMIT (docs/verification.md): whitespace between the tokens of the unsigned
        # validation-data revision turned into a byte every parser skips is not detected;
        # such a mutant must still get a sane verdict, and the signed revisions stay intact
        _sane(report)
        return
    _judge(data, mutant, report, touched)


@FUZZ
@given(stage=STAGE, length=st.integers(0, 1 << 30), near_end=st.booleans())
def test_truncated(letters: Letters, pki: Pki, stage: str, length: int, near_end: bool) -> None:
    data = _letter(letters, stage)
    cut = len(data) - 1 - length % 200 if near_end else length % len(data)
    mutant = data[:cut]
    _judge(data, mutant, _verify(mutant, pki), [])


GARBAGE = st.one_of(
    st.binary(min_size=1, max_size=300),
    st.sampled_from(
        [
            b"\n%%EOF\n",
            b"4 0 obj\n<< /Length 22 >>\nstream\n0 0 0 rg 0 0 99 99 re f\nendstream\nendobj\n",
            b"\nxref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 1 >>\n",
            b"PK\x03\x04" + b"\x00" * 26,
            b"<html><script>alert(1)</script></html>",
        ]
    ),
)


@FUZZ
@given(stage=STAGE, garbage=GARBAGE)
def test_garbage_appended(letters: Letters, pki: Pki, stage: str, garbage: bytes) -> None:
    data = _letter(letters, stage)
    mutant = fz.append_garbage(data, garbage)
    _judge(data, mutant, _verify(mutant, pki), None)


# --- incremental updates --------------------------------------------------------------------------


@FUZZ
@given(
    stage=STAGE,
    how=st.sampled_from(["append", "prepend", "replace", "redefine"]),
    ops=st.sampled_from(sorted(fz.CONTENT_OPS)),
)
def test_update_changes_the_page_content(letters: Letters, pki: Pki, stage: str, how: str, ops: str) -> None:
    data = _letter(letters, stage)
    mutant = fz.change_content(data, how, fz.CONTENT_OPS[ops])
    _judge(data, mutant, _verify(mutant, pki), None)


RECTS = st.one_of(
    st.just((80.0, 500.0, 380.0, 540.0)),  # over the amount
    st.just((700.0, 900.0, 800.0, 950.0)),  # off the page
    st.tuples(st.integers(0, 560), st.integers(0, 800), st.integers(1, 300), st.integers(1, 120)).map(
        lambda t: (float(t[0]), float(t[1]), float(t[0] + t[2]), float(t[1] + t[3]))
    ),
)


@FUZZ
@given(
    stage=STAGE,
    subtype=st.sampled_from(fz.ANNOT_SUBTYPES),
    rect=RECTS,
    flags=st.sampled_from([0, 4, 2, 32 | 4, 1, 128 | 4, 256 | 4]),
    colour=st.sampled_from([(1, 1, 1), (0, 0, 0), (1, 0, 0)]),
    appearance=st.sampled_from(["/N", "/R", "/D"]),
)
def test_update_overlays_an_annotation(
    letters: Letters,
    pki: Pki,
    stage: str,
    subtype: str,
    rect: tuple[float, float, float, float],
    flags: int,
    colour: tuple[float, float, float],
    appearance: str,
) -> None:
    data = _letter(letters, stage)
    mutant = fz.overlay_annotation(data, subtype, rect, flags, colour, appearance)
    _judge(data, mutant, _verify(mutant, pki), None)


@FUZZ
@given(stage=STAGE, how=st.sampled_from(["fontfile", "resource", "descriptor", "resources"]))
def test_update_replaces_a_font_or_resource(letters: Letters, pki: Pki, stage: str, how: str) -> None:
    data = _letter(letters, stage)
    mutant = fz.replace_font(data, how)
    _judge(data, mutant, _verify(mutant, pki), None)


@FUZZ
@given(
    stage=STAGE,
    how=st.sampled_from(["reverse", "rotate", "hidden", "noview", "unlist", "move", "blank"]),
    which=st.integers(0, 2),
)
def test_update_reorders_or_hides_widgets(letters: Letters, pki: Pki, stage: str, how: str, which: int) -> None:
    data = _letter(letters, stage)
    mutant = fz.widget_tamper(data, how, which)
    _judge(data, mutant, _verify(mutant, pki), None)


@FUZZ
@given(stage=STAGE, how=st.sampled_from(["xobject", "catalog", "pages", "page", "free", "raw-content", "raw-font"]))
def test_update_redefines_a_signed_object(letters: Letters, pki: Pki, stage: str, how: str) -> None:
    data = _letter(letters, stage)
    if how == "raw-content":  # written by hand: object 4 (the page's content) redefined
        mutant = fz.raw_update(
            data, b"4 0 obj\n<< /Length 31 >>\nstream\nq 1 1 1 rg 80 500 300 40 re f Q\nendstream\nendobj\n"
        )
    elif how == "raw-font":  # the embedded font program (object 11) replaced by an empty one
        mutant = fz.raw_update(data, b"11 0 obj\n<< /Length 0 >>\nstream\n\nendstream\nendobj\n")
    else:
        mutant = fz.shadow(data, how)
    _judge(data, mutant, _verify(mutant, pki), None)


# --- one letter's mutants, written out and explained -------------------------------------------------


GALLERY: dict[str, tuple[Any, set[Indication]]] = {
    "flip-inside": (lambda d: fz.flip(d, fz.signed_position(d, 1000), 0x20), {Indication.TOTAL_FAILED}),
    "flip-contents": (lambda d: fz.flip(d, fz.contents_position(d, 1, 40), 0x01), {Indication.TOTAL_FAILED}),
    "flip-padding": (
        lambda d: fz.flip(d, fz.byte_ranges(d)[1].gap_end - 3, 0x01),
        {Indication.TOTAL_FAILED},
    ),
    "truncated": (lambda d: d[: len(d) // 2], {Indication.TOTAL_FAILED, Indication.INDETERMINATE}),
    "garbage": (lambda d: d + b"4 0 obj\n<< >>\nendobj\n", {Indication.INDETERMINATE}),
    "content-cover": (lambda d: fz.change_content(d, "append"), {Indication.TOTAL_FAILED}),
    "content-redefined": (lambda d: fz.change_content(d, "redefine"), {Indication.TOTAL_FAILED}),
    "annotation-visible": (lambda d: fz.overlay_annotation(d, "/FreeText"), {Indication.INDETERMINATE}),
    "annotation-hidden": (lambda d: fz.overlay_annotation(d, "/Square", flags=2), {Indication.INDETERMINATE}),
    "annotation-print-only": (
        lambda d: fz.overlay_annotation(d, "/Stamp", flags=32 | 4),
        {Indication.INDETERMINATE},
    ),
    "annotation-off-page": (
        lambda d: fz.overlay_annotation(d, "/Square", rect=(700, 900, 800, 950)),
        {Indication.INDETERMINATE},
    ),
    "font-replaced": (lambda d: fz.replace_font(d, "fontfile"), {Indication.TOTAL_FAILED}),
    "resources-replaced": (lambda d: fz.replace_font(d, "resources"), {Indication.TOTAL_FAILED}),
    "annots-reordered": (lambda d: fz.widget_tamper(d, "reverse"), {Indication.TOTAL_FAILED}),
    "widget-hidden": (lambda d: fz.widget_tamper(d, "hidden", 1), {Indication.TOTAL_FAILED}),
    "shadow-appearance": (lambda d: fz.shadow(d, "xobject"), {Indication.TOTAL_FAILED}),
    "shadow-freed": (lambda d: fz.shadow(d, "free"), {Indication.TOTAL_FAILED}),
}
"""Class -> (mutation of the executive's letter, the file verdicts it may get)."""


def test_mutant_gallery(letters: Letters, pki: Pki, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = letters.executive
    rows = []
    for name, (mutate, expected) in GALLERY.items():
        mutant = mutate(data)
        (tmp_path / f"{name}.pdf").write_bytes(mutant)
        report = _verify(mutant, pki)
        _sane(report)
        reasons = [r.code for r in report.reasons] + [r.code for s in report.signatures for r in s.reasons]
        rows.append((name, report.indication.value, [s.subindication for s in report.signatures], reasons))
        assert report.indication in expected, (name, report.to_json())
    with capsys.disabled():
        print(f"\nmutants of the executive's letter written to {tmp_path}")
        for name, verdict, subs, reasons in rows:
            notable = [c for c in reasons if c not in ("intact", "trusted_chain", "timestamp_valid", "revocation_good")]
            print(f"  {name:22} {verdict:14} {','.join(str(s) for s in subs):40} {' '.join(notable[:6])}")
