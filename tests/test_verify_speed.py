"""What makes verification fast must not change a verdict: the name-comparison memo agrees with
asn1crypto's own comparison, the benchmark's peer really runs on pyHanko as installed, and
``edoc verify`` on two worker processes prints exactly what one prints, in the order given.

(The speed itself is measured by ``benchmarks/verify.py``, never asserted here.)
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from asn1crypto import x509

from tests import fixtures_verify as fx
from tests.conftest import run_cli
from tests.fixtures_verify import Pki, append_update

pki = fx.pki
signing = fx.signing
signed_letter = fx.signed_letter


def _name(*rdns: list[tuple[str, str]]) -> x509.Name:
    """A Name with the RDNs given, each a list of (type, value), values as UTF8String."""
    sequence = x509.RDNSequence(
        [
            x509.RelativeDistinguishedName(
                [
                    x509.NameTypeAndValue({"type": kind, "value": x509.DirectoryString(name="utf8_string", value=v)})
                    for kind, v in rdn
                ]
            )
            for rdn in rdns
        ]
    )
    return x509.Name(name="", value=sequence)


NAMES = [
    _name([("country_name", "TH")], [("common_name", "นายสมชาย ใจดี")]),
    _name([("country_name", "TH")], [("common_name", "นายสมชาย  ใจดี ")]),  # equal after preparation
    _name([("country_name", "TH")], [("common_name", "นายสมชาย ใจดีมาก")]),
    _name([("country_name", "TH")], [("common_name", "PAK CHONG Pilot Root CA")]),
    _name([("country_name", "TH")], [("common_name", "pak chong pilot root ca")]),  # equal: case folded
    _name([("country_name", "TH"), ("organization_name", "เทศบาลเมืองปากช่อง")], [("common_name", "x")]),
    _name([("organization_name", "เทศบาลเมืองปากช่อง"), ("country_name", "TH")], [("common_name", "x")]),
    _name([("country_name", "TH"), ("country_name", "LA")], [("common_name", "x")]),
    _name([("country_name", "TH")], [("common_name", "private \ue000 use")]),  # preparation refuses it
    _name([("country_name", "TH")]),
]


def _compare(a: x509.Name, b: x509.Name) -> object:
    try:
        return a == b
    except Exception as exc:
        return type(exc).__name__


def _hashable(a: x509.Name) -> object:
    try:
        return a.hashable
    except Exception as exc:
        return type(exc).__name__


def test_remembered_names_compare_exactly_as_asn1crypto_does() -> None:
    from edoc.signing.verify import speedups

    speedups.install()

    def fresh() -> list[x509.Name]:  # new parses each time, as pyHanko makes them
        return [x509.Name.load(n.dump()) for n in NAMES]

    pairs = list(itertools.product(range(len(NAMES)), repeat=2))
    with speedups.removed():
        assert x509.RelativeDistinguishedName._get_values is speedups._original_rdn_values
        names = fresh()
        expected = [_compare(names[i], names[j]) for i, j in pairs]
        expected_hashes = [_hashable(n) for n in fresh()]
    assert x509.RelativeDistinguishedName._get_values is speedups._rdn_values
    for _ in range(2):  # the second time from the memo
        names = fresh()
        assert [_compare(names[i], names[j]) for i, j in pairs] == expected
        assert [_hashable(n) for n in fresh()] == expected_hashes
    # the cases mean something: preparation equates some names, keeps others apart, refuses one
    assert expected[1] is True and expected[2] is False and expected[3 * len(NAMES) + 4] is True
    assert expected[5 * len(NAMES) + 6] is True
    assert "ValueError" in {expected[8 * len(NAMES) + 8], expected_hashes[8]}


def test_the_name_memo_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from edoc.signing.verify import speedups

    speedups.install()
    monkeypatch.setattr(speedups, "NAME_MEMO_SIZE", 8)
    for i in range(50):
        name = _name([("common_name", f"ผู้ลงนาม {i}")])
        assert name == x509.Name.load(name.dump())
        assert len(speedups._rdn_memo) <= 8 and len(speedups._names_memo) <= 8


def test_removed_gives_pyhanko_as_installed_and_puts_the_speedups_back() -> None:
    from pyhanko.pdf_utils import generic
    from pyhanko.sign.validation import ades

    from edoc.signing.verify import speedups

    speedups.install()
    with speedups.removed():
        assert generic.read_hex_string_from_stream is speedups.original()
        assert ades._dss_to_local_knowledge is speedups._original_dss_knowledge
        assert x509.RelativeDistinguishedName._get_types is speedups._original_rdn_types
        assert x509.RDNSequence.__eq__ is speedups._original_names_equal
    assert x509.RDNSequence.__eq__ is speedups._names_equal
    assert generic.read_hex_string_from_stream is speedups.read_hex_string
    assert ades._dss_to_local_knowledge is speedups._dss_knowledge
    assert x509.RelativeDistinguishedName._get_types is speedups._rdn_types


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory, signed_letter: bytes, pki: Pki) -> tuple[list[Path], Path]:
    from pyhanko.pdf_utils import generic

    def cover(w: object) -> None:
        page_ref = w.find_page_for_modification(0)[0]  # type: ignore[attr-defined]
        page = page_ref.get_object()
        extra = generic.StreamObject(stream_data=b"q 1 1 1 rg 80 500 300 40 re f Q")
        page[generic.NameObject("/Contents")] = generic.ArrayObject([page.raw_get("/Contents"), w.add_object(extra)])  # type: ignore[attr-defined]
        w.update_container(page)  # type: ignore[attr-defined]

    base = tmp_path_factory.mktemp("verify-jobs")
    contents = [
        signed_letter,
        append_update(signed_letter, cover),
        b"not a PDF at all",
        signed_letter[: len(signed_letter) // 2],
        signed_letter,
    ]
    files = []
    for i, data in enumerate(contents):
        path = base / f"{i}.pdf"
        path.write_bytes(data)
        files.append(path)
    root = base / "root.pem"
    root.write_bytes(pki.pem("root").read_bytes())
    return files, root


def test_two_workers_print_what_one_prints_in_the_order_given(many: tuple[list[Path], Path]) -> None:
    import json

    files, root = many
    args = ["--json", "verify", *map(str, files), "--trust", str(root)]
    one = run_cli(*args, "--jobs", "1")
    two = run_cli(*args, "--jobs", "2")
    default = run_cli(*args)  # as many workers as cores
    assert one.returncode == two.returncode == default.returncode == 1, one.stderr + two.stderr
    assert one.stdout == two.stdout == default.stdout
    docs = json.loads(two.stdout)
    assert [d["file"] for d in docs] == [str(f) for f in files]
    assert [d["indication"] for d in docs] == [
        "TOTAL-PASSED",
        "TOTAL-FAILED",
        "TOTAL-FAILED",
        "TOTAL-FAILED",
        "TOTAL-PASSED",
    ]
