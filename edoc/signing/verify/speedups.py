"""Two speed-ups for pyHanko, installed by the verification engine.

1. A faster reader for PDF hexadecimal strings. pyHanko reads ``<…>`` strings one byte at a
   time in Python. A signature's ``/Contents`` is such a string of 16 to 64 KB, so reading
   one signature dictionary costs about 60 ms, and a file with 25 signatures spends more than
   a second on it. :func:`read_hex_string` does the same work with a few slices: it finds the
   closing ``>``, strips whitespace and decodes. For anything unusual (a comment inside the
   string, a character that is not a hex digit, no closing ``>``) it rewinds and calls
   pyHanko's own reader, so errors and their messages are pyHanko's.
   ``tests/test_verify_units.py`` checks both readers agree on arbitrary input.

2. Work shared between the signatures of one file. pyHanko's long-term validation of each
   signature rebuilds the index of document time-stamps, re-validates the whole chain of
   document time-stamps and re-reads the DSS: the same work, with the same result, for every
   signature of the file (``lt-short.pdf``, 25 signatures: most of its time). Within one
   :func:`shared_work` block these three pure functions are memoised per file; outside such a
   block they behave exactly as before. The cached proof-of-existence manager is copied on
   every use, as pyHanko mutates the one it gets.

3. Comparing certificate names. Path building and revocation checks compare names (issuer
   with subject) thousands of times per file, and asn1crypto prepares both sides for every
   comparison (RFC 4518 string preparation: Unicode normalisation, character checks), which
   is slow on Thai names and repeated for every new parse of the same certificate. Whether
   two names are equal, and a relative distinguished name's types and prepared values, are
   pure functions of the DER encodings, so :func:`_names_equal`, :func:`_rdn_types` and
   :func:`_rdn_values` remember them by those encodings (bounded tables; a comparison that
   raises is not remembered, so it raises again as asn1crypto would). The comparisons themselves are
   asn1crypto's, unchanged; the remembered sets and tables are read-only.
"""

from __future__ import annotations

import binascii
import contextlib
import contextvars
import re
from collections.abc import Iterator
from copy import copy
from types import MappingProxyType
from typing import Any

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils import generic
from pyhanko.sign.validation import ades

_original = generic.read_hex_string_from_stream
_HEX = re.compile(rb"[0-9A-Fa-f]*")
_WHITESPACE = b"\x00\t\n\x0c\r "
CHUNK = 1 << 16


def read_hex_string(stream: Any) -> Any:
    """Read ``<hex>`` from ``stream`` (positioned at ``<``) as pyHanko does, only faster."""
    start = stream.tell()
    stream.read(1)
    parts: list[bytes] = []
    while True:
        buf = stream.read(CHUNK)
        if not buf:
            stream.seek(start)
            return _original(stream)
        end = buf.find(b">")
        if end == -1:
            parts.append(buf)
            continue
        parts.append(buf[:end])
        break
    body = b"".join(parts)
    if b"%" in body:
        stream.seek(start)
        return _original(stream)
    digits = body.translate(None, _WHITESPACE)
    if _HEX.fullmatch(digits) is None:
        stream.seek(start)
        return _original(stream)
    stream.seek(start + 1 + len(body) + 1)
    if len(digits) % 2:
        digits += b"0"
    return generic.pdf_string(binascii.unhexlify(digits))


_memo: contextvars.ContextVar[dict[Any, Any] | None] = contextvars.ContextVar("edoc_verify_memo", default=None)

_original_index = ades._build_prima_facie_poe_index_from_pdf_timestamps
_original_validate_poe = ades._validate_prima_facie_poe
_original_dss_knowledge = ades._dss_to_local_knowledge


def _index(r: Any, include_content_ts: bool, diff_policy: Any) -> Any:
    memo = _memo.get()
    if memo is None:
        return _original_index(r, include_content_ts, diff_policy)
    key = ("index", id(r), include_content_ts, id(diff_policy))
    if key not in memo:
        memo[key] = _original_index(r, include_content_ts, diff_policy)
    return memo[key]


async def _validate_poe(prima_facie_poe_sets: Any, validation_spec: Any, cur_timing_info: Any = None) -> Any:
    memo = _memo.get()
    if memo is None:
        return await _original_validate_poe(prima_facie_poe_sets, validation_spec, cur_timing_info)
    key = ("poe", id(prima_facie_poe_sets))
    if key not in memo:
        try:
            memo[key] = (await _original_validate_poe(prima_facie_poe_sets, validation_spec, cur_timing_info), None)
        except Exception as exc:
            memo[key] = (None, exc)
    result, error = memo[key]
    if error is not None:
        raise error
    return copy(result)


def _dss_knowledge(reader: Any) -> Any:
    memo = _memo.get()
    if memo is None:
        return _original_dss_knowledge(reader)
    key = ("dss", id(reader))
    if key not in memo:
        memo[key] = _original_dss_knowledge(reader)
    return memo[key]


_original_rdn_types = asn1_x509.RelativeDistinguishedName._get_types
_original_rdn_values = asn1_x509.RelativeDistinguishedName._get_values
NAME_MEMO_SIZE = 4096
"""Relative distinguished names remembered (a file names a few dozen; a hostile one cannot
make the table grow past this: it is emptied when full)."""
_rdn_memo: dict[tuple[str, bytes], tuple[Any]] = {}


_original_names_equal = asn1_x509.RDNSequence.__eq__
_names_memo: dict[tuple[bytes, bytes], tuple[Any]] = {}


def _remembered(memo: dict[Any, Any], key: Any, compute: Any) -> Any:
    """``compute()``, remembered under ``key``. A failure is not remembered: the exception's
    traceback holds the frames that raised it, and with them the whole file being verified
    (a remembered one kept about 200 KB alive per damaged name, up to the table's size)."""
    hit = memo.get(key)
    if hit is None:
        value = compute()  # raises as asn1crypto would, and is computed again next time
        if len(memo) >= NAME_MEMO_SIZE:
            memo.clear()
        memo[key] = (value,)
        return value
    return hit[0]


def _rdn_types(self: Any, rdn: Any) -> Any:
    try:
        key = ("types", rdn.dump())
    except Exception:
        return _original_rdn_types(self, rdn)
    return _remembered(_rdn_memo, key, lambda: frozenset(_original_rdn_types(self, rdn)))


def _rdn_values(self: Any, rdn: Any) -> Any:
    try:
        key = ("values", rdn.dump())
    except Exception:
        return _original_rdn_values(self, rdn)
    return _remembered(_rdn_memo, key, lambda: MappingProxyType(_original_rdn_values(self, rdn)))


def _names_equal(self: Any, other: Any) -> Any:
    if not isinstance(other, asn1_x509.RDNSequence):
        return _original_names_equal(self, other)
    try:
        key = (self.dump(), other.dump())
    except Exception:
        return _original_names_equal(self, other)
    return _remembered(_names_memo, key, lambda: _original_names_equal(self, other))


@contextlib.contextmanager
def shared_work() -> Iterator[None]:
    """Share pyHanko's per-file work between the signatures verified inside this block."""
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def install() -> None:
    """Install the speed-ups (idempotent)."""
    generic.read_hex_string_from_stream = read_hex_string
    ades._build_prima_facie_poe_index_from_pdf_timestamps = _index
    ades._validate_prima_facie_poe = _validate_poe
    ades._dss_to_local_knowledge = _dss_knowledge
    asn1_x509.RelativeDistinguishedName._get_types = _rdn_types
    asn1_x509.RelativeDistinguishedName._get_values = _rdn_values
    asn1_x509.RDNSequence.__eq__ = _names_equal


@contextlib.contextmanager
def removed() -> Iterator[None]:
    """pyHanko exactly as installed inside this block (for benchmarks that measure it bare)."""
    saved = _installed()
    generic.read_hex_string_from_stream = _original
    ades._build_prima_facie_poe_index_from_pdf_timestamps = _original_index
    ades._validate_prima_facie_poe = _original_validate_poe
    ades._dss_to_local_knowledge = _original_dss_knowledge
    asn1_x509.RelativeDistinguishedName._get_types = _original_rdn_types
    asn1_x509.RelativeDistinguishedName._get_values = _original_rdn_values
    asn1_x509.RDNSequence.__eq__ = _original_names_equal
    try:
        yield
    finally:
        (
            generic.read_hex_string_from_stream,
            ades._build_prima_facie_poe_index_from_pdf_timestamps,
            ades._validate_prima_facie_poe,
            ades._dss_to_local_knowledge,
            asn1_x509.RelativeDistinguishedName._get_types,
            asn1_x509.RelativeDistinguishedName._get_values,
            asn1_x509.RDNSequence.__eq__,
        ) = saved


def _installed() -> tuple[Any, ...]:
    return (
        generic.read_hex_string_from_stream,
        ades._build_prima_facie_poe_index_from_pdf_timestamps,
        ades._validate_prima_facie_poe,
        ades._dss_to_local_knowledge,
        asn1_x509.RelativeDistinguishedName._get_types,
        asn1_x509.RelativeDistinguishedName._get_values,
        asn1_x509.RDNSequence.__eq__,
    )


def original() -> Any:
    """pyHanko's own reader (for tests and benchmarks)."""
    return _original
