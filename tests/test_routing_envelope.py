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
