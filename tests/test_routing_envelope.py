"""Secret content at rest: CMS EnvelopedData that OpenSSL opens, and that opens what OpenSSL makes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from edoc.routing import envelope
from tests.fixtures_routing import MiniCA, key_pem, pem

SECRET = "หนังสือลับมาก: แผนรักษาความปลอดภัย".encode() * 200


@pytest.fixture(scope="module")
def ca() -> MiniCA:
    return MiniCA()


def _openssl(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["openssl", "cms", *args], capture_output=True, timeout=60)


@pytest.mark.parametrize("key", ["p256", "p384", "rsa2048"])
def test_openssl_opens_what_edoc_seals_and_the_reverse(ca: MiniCA, key: str, tmp_path: Path) -> None:
    private, cert = ca.issue(f"reader {key}", key=key)
    other_private, other = ca.issue("other reader", key="p256")
    (tmp_path / "cert.pem").write_bytes(pem(cert))
    (tmp_path / "key.pem").write_bytes(key_pem(private))
    sealed = envelope.seal(SECRET, [cert, other])
    assert SECRET not in sealed and envelope.is_envelope(sealed)
    (tmp_path / "env.der").write_bytes(sealed)
    r = _openssl(
        "-decrypt", "-binary", "-inform", "DER", "-in", str(tmp_path / "env.der"),
        "-recip", str(tmp_path / "cert.pem"), "-inkey", str(tmp_path / "key.pem"),
    )  # fmt: skip
    assert r.returncode == 0 and r.stdout == SECRET, r.stderr
    assert envelope.open_sealed(sealed, cert, private) == SECRET
    assert envelope.open_sealed(sealed, other, other_private) == SECRET

    (tmp_path / "plain").write_bytes(SECRET)
    r = _openssl(
        "-encrypt", "-aes256", "-binary", "-outform", "DER", "-in", str(tmp_path / "plain"),
        "-out", str(tmp_path / "o.der"), str(tmp_path / "cert.pem"),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert envelope.open_sealed((tmp_path / "o.der").read_bytes(), cert, private) == SECRET


def test_only_recipients_open_and_adding_one_keeps_the_ciphertext(ca: MiniCA) -> None:
    clerk_key, clerk = ca.issue("clerk")
    mayor_key, mayor = ca.issue("mayor", key="rsa2048")
    sealed = envelope.seal(SECRET, [clerk])
    assert envelope.is_recipient(sealed, clerk) and not envelope.is_recipient(sealed, mayor)
    with pytest.raises(envelope.EnvelopeError, match="not a recipient"):
        envelope.open_sealed(sealed, mayor, mayor_key)
    wider = envelope.add_recipients(sealed, clerk, clerk_key, [mayor, clerk])
    assert len(envelope.recipients(wider)) == 2
    assert envelope.open_sealed(wider, mayor, mayor_key) == SECRET
    before = envelope._load(sealed)["encrypted_content_info"].dump()
    assert envelope._load(wider)["encrypted_content_info"].dump() == before
    with pytest.raises(envelope.EnvelopeError):
        envelope.add_recipients(sealed, mayor, mayor_key, [mayor])


def test_a_wrong_key_or_garbage_is_refused(ca: MiniCA) -> None:
    key, cert = ca.issue("reader")
    impostor_key, _ = ca.issue("impostor")
    sealed = envelope.seal(SECRET, [cert])
    with pytest.raises(envelope.EnvelopeError):
        envelope.open_sealed(sealed, cert, impostor_key)  # type: ignore[arg-type]
    assert not envelope.is_envelope(b"%PDF-1.7 plain")
    with pytest.raises(envelope.EnvelopeError):
        envelope.open_sealed(b"\x30\x03\x02\x01\x00", cert, key)
    with pytest.raises(ValueError):
        envelope.seal(SECRET, [])


def test_a_circulars_envelope_answers_who_reads_it_without_parsing_it_all(ca: MiniCA) -> None:
    """``is_recipient`` (a byte search for the certificate's IssuerAndSerialNumber) agrees with
    the parsed recipient list, for EC and RSA recipients; every recipient of a many-reader
    envelope opens it; a damaged recipient info is an EnvelopeError, not an asn1crypto error."""
    issued = [ca.issue(f"seal {i}", key="rsa2048" if i % 10 == 0 else "p256") for i in range(40)]
    outsider_key, outsider = ca.issue("outsider")
    sealed = envelope.seal(SECRET, [c for _k, c in issued[:30]])
    wider = envelope.add_recipients(sealed, issued[0][1], issued[0][0], [c for _k, c in issued[20:]])
    listed = {serial for _i, serial in envelope.recipients(wider)}
    for _key, cert in [*issued, (outsider_key, outsider)]:
        assert envelope.is_recipient(wider, cert) == (cert.serial_number in listed)
    assert len(listed) == 40 and not envelope.is_recipient(wider, outsider)
    for key, cert in (issued[0], issued[25], issued[39]):
        assert envelope.open_sealed(wider, cert, key) == SECRET
    # a reader's own recipient info damaged: refused as such (an EnvelopeError, never asn1crypto's)
    for offset in (0, 2, 40):
        at = wider.find(envelope._issuer_serial_der(issued[39][1].public_bytes(pem_der())))
        damaged = wider[: at + offset] + b"\xff" * 8 + wider[at + offset + 8 :]
        with pytest.raises(envelope.EnvelopeError):
            envelope.open_sealed(damaged, issued[39][1], issued[39][0])
    with pytest.raises(envelope.EnvelopeError):
        envelope.open_sealed(wider[: len(wider) // 3], issued[0][1], issued[0][0])  # cut short


def pem_der() -> object:
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.DER
