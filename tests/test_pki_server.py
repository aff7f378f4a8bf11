"""``edoc pki serve``: OCSP, RFC 3161 and CRLs over HTTP on loopback, checked with openssl."""

from __future__ import annotations

import base64
import hashlib
import http.client
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp

from edoc.errors import WrongPassphrase
from edoc.office import Office, open_office
from edoc.pki import tsa
from edoc.pki.keys import StaticPassphrases
from edoc.pki.ocsp import make_request
from edoc.pki.server import PkiServer
from tests import fixtures_pki
from tests.fixtures_pki import PASSPHRASE, openssl, pem

pki_office = fixtures_pki.pki_office
pki_sqlite_office = fixtures_pki.pki_sqlite_office


@pytest.fixture
def served(pki_sqlite_office: Office, tmp_path: Path) -> Iterator[tuple[Office, PkiServer]]:
    office = pki_sqlite_office
    office.issue_certificate("pc.mayor")
    office.issue_certificate("pc.clerk")
    ca = office.pki_status()
    (tmp_path / "root.pem").write_bytes(ca.root.pem)
    (tmp_path / "issuing.pem").write_bytes(ca.issuing.pem)
    with office.pki_server(refresh_crl=True) as server:
        assert server.url == office.settings.pki.base_url  # the URLs in the certificates
        yield office, server


def _post(url: str, body: bytes, content_type: str) -> bytes:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        return bytes(response.read())


def _get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.headers["Content-Type"], bytes(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


def _openssl_ocsp(tmp: Path, server: PkiServer, *what: str) -> str:
    r = openssl(
        "ocsp",
        "-issuer", str(tmp / "issuing.pem"),
        *what,
        "-url", f"{server.url}/ocsp",
        "-CAfile", str(tmp / "root.pem"),
        "-verify_other", str(tmp / "issuing.pem"),
        "-resp_text",
    )  # fmt: skip
    return r.stdout + r.stderr


def test_openssl_ocsp_good_revoked_unknown_with_nonce(served: tuple[Office, PkiServer], tmp_path: Path) -> None:
    office, server = served
    for owner in ("pc.mayor", "pc.clerk"):
        (tmp_path / f"{owner}.pem").write_bytes(pem(office.export_chain(owner)[0]))
    out = _openssl_ocsp(tmp_path, server, "-cert", str(tmp_path / "pc.mayor.pem"))
    assert "Response verify OK" in out
    assert f"{tmp_path / 'pc.mayor.pem'}: good" in out
    assert "OCSP Nonce" in out and "WARNING: no nonce" not in out
    assert "Responder Id: " in out and "OCSP Responder" in office.pki_status().ocsp.subject  # type: ignore[union-attr]

    office.revoke("pc.clerk", "key-compromise")
    out = _openssl_ocsp(tmp_path, server, "-cert", str(tmp_path / "pc.clerk.pem"))
    assert "Response verify OK" in out
    assert f"{tmp_path / 'pc.clerk.pem'}: revoked" in out and "Reason: keyCompromise" in out

    out = _openssl_ocsp(tmp_path, server, "-serial", "0x1234567890abcdef")
    assert "Response verify OK" in out and "0x1234567890abcdef: unknown" in out


def test_ocsp_get_malformed_and_foreign_issuer(served: tuple[Office, PkiServer]) -> None:
    office, server = served
    cert, issuing, _root = office.export_chain("pc.mayor")
    request = make_request(cert, issuing)  # no nonce
    status, content_type, body = _get(f"{server.url}/ocsp/{base64.b64encode(request).decode()}")
    assert status == 200 and content_type == "application/ocsp-response"
    response = ocsp.load_der_ocsp_response(body)
    assert response.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert response.certificate_status is ocsp.OCSPCertStatus.GOOD and response.serial_number == cert.serial_number
    assert response.next_update_utc is not None and response.this_update_utc < response.next_update_utc
    assert list(response.extensions) == []  # no nonce asked, none sent
    responder = office.pki_status().ocsp
    assert responder is not None and response.certificates == [responder.certificate]

    garbage = ocsp.load_der_ocsp_response(_post(f"{server.url}/ocsp", b"\x30\x03junk", "application/ocsp-request"))
    assert garbage.response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST

    foreign = make_request(issuing, _root, nonce=b"0123456789abcdef")  # about a certificate the root issued
    answer = ocsp.load_der_ocsp_response(_post(f"{server.url}/ocsp", foreign, "application/ocsp-request"))
    assert answer.response_status is ocsp.OCSPResponseStatus.UNAUTHORIZED


def test_ocsp_sha256_certid_and_nonce(served: tuple[Office, PkiServer]) -> None:
    office, server = served
    cert, issuing, _root = office.export_chain("pc.mayor")
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(cert, issuing, hashes.SHA256())
        .add_extension(x509.OCSPNonce(b"nonce-of-sixteen"), critical=False)
        .build()
    )
    body = _post(
        f"{server.url}/ocsp", request.public_bytes(Encoding.DER),
        "application/ocsp-request",
    )  # fmt: skip
    response = ocsp.load_der_ocsp_response(body)
    assert response.certificate_status is ocsp.OCSPCertStatus.GOOD
    assert isinstance(response.hash_algorithm, hashes.SHA256)
    nonce = response.extensions.get_extension_for_class(x509.OCSPNonce).value
    assert nonce.nonce == b"nonce-of-sixteen"


def test_openssl_ts_verifies_a_time_stamp(served: tuple[Office, PkiServer], tmp_path: Path) -> None:
    office, server = served
    data = tmp_path / "letter.pdf"
    data.write_bytes(b"%PDF-1.7 a letter from Pak Chong\n")
    query = tmp_path / "req.tsq"
    openssl("ts", "-query", "-data", str(data), "-sha256", "-cert", "-out", str(query))
    reply = tmp_path / "resp.tsr"
    reply.write_bytes(_post(f"{server.url}/tsa", query.read_bytes(), "application/timestamp-query"))
    text = openssl("ts", "-reply", "-in", str(reply), "-text").stdout
    assert "Status: Granted." in text
    assert f"Policy OID: {tsa.TSA_POLICY}" in text
    assert "Accuracy: 0x01 seconds" in text and "Nonce: 0x" in text
    assert "TSA: DirName:/C=TH/O=" in text  # openssl cuts long escaped names short: check the name below
    from asn1crypto import tsp

    token = tsp.TimeStampResp.load(reply.read_bytes())["time_stamp_token"]
    info = token["content"]["encap_content_info"]["content"].parsed
    assert info["tsa"].chosen.native["common_name"] == "เทศบาลเมืองปากช่อง Time-Stamping Authority"
    r = openssl(
        "ts", "-verify", "-data", str(data), "-in", str(reply),
        "-CAfile", str(tmp_path / "root.pem"), "-untrusted", str(tmp_path / "issuing.pem"),
    )  # fmt: skip
    assert "Verification: OK" in r.stdout
    other = tmp_path / "other.pdf"
    other.write_bytes(b"%PDF-1.7 a different letter\n")
    r = openssl(
        "ts", "-verify", "-data", str(other), "-in", str(reply), "-CAfile", str(tmp_path / "root.pem"), check=False
    )
    assert r.returncode != 0 and "Verification: FAILED" in r.stdout
    # the same token through the Python client helper
    digest = hashlib.sha256(data.read_bytes()).digest()
    stamped = tsa.read_response(
        _post(f"{server.url}/tsa", tsa.make_request(digest, nonce=42), "application/timestamp-query")
    )
    assert stamped.status == "granted" and stamped.nonce == 42 and stamped.gen_time is not None
    assert abs((stamped.gen_time - office.now()).total_seconds()) < 60


def test_tsa_rejects_what_it_must_not_stamp(served: tuple[Office, PkiServer], tmp_path: Path) -> None:
    _office, server = served
    data = tmp_path / "x"
    data.write_bytes(b"x")

    def ask(body: bytes) -> tsa.StampedTime:
        return tsa.read_response(_post(f"{server.url}/tsa", body, "application/timestamp-query"))

    sha1 = tmp_path / "sha1.tsq"
    openssl("ts", "-query", "-data", str(data), "-sha1", "-out", str(sha1))
    assert ask(sha1.read_bytes()).failure == {"bad_alg"}
    policy = tmp_path / "policy.tsq"
    openssl("ts", "-query", "-data", str(data), "-sha256", "-tspolicy", "1.2.3.4", "-out", str(policy))
    assert ask(policy.read_bytes()).failure == {"unaccepted_policy"}
    assert ask(b"not a request").failure == {"bad_data_format"}
    assert ask(tsa.make_request(b"short", hash_name="sha256")).failure == {"bad_data_format"}
    rejected = ask(b"\x30\x00")
    assert rejected.status == "rejection" and rejected.token is None


def test_crl_and_ca_certificates_over_http(served: tuple[Office, PkiServer]) -> None:
    office, server = served
    status, content_type, body = _get(f"{server.url}/crl/issuing.crl")
    assert status == 200 and content_type == "application/pkix-crl"
    first = x509.load_der_x509_crl(body)
    issuing = office.pki_status().issuing.certificate
    assert first.is_signature_valid(issuing.public_key())  # type: ignore[arg-type]
    clerk = office.certificates("pc.clerk")[0]
    office.revoke("pc.clerk", "superseded")
    second = x509.load_der_x509_crl(_get(f"{server.url}/crl/issuing.crl")[2])
    number = second.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    assert number > first.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    assert second.get_revoked_certificate_by_serial_number(int(clerk.serial, 16)) is not None
    root_crl = x509.load_der_x509_crl(_get(f"{server.url}/crl/root.crl")[2])
    assert root_crl.issuer == office.export_root().subject
    for name, cert in (("issuing", issuing), ("root", office.export_root())):
        status, content_type, body = _get(f"{server.url}/ca/{name}.crt")
        assert status == 200 and content_type == "application/pkix-cert"
        assert x509.load_der_x509_certificate(body) == cert
    assert _get(f"{server.url}/health")[0] == 200
    assert _get(f"{server.url}/nothing")[0] == 404
    assert _get(f"{server.url}/ocsp/%%%")[0] == 400


def test_http_limits(served: tuple[Office, PkiServer]) -> None:
    _office, server = served
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    conn.request("POST", "/tsa", body=b"x" * 70_000, headers={"Content-Type": "application/timestamp-query"})
    assert conn.getresponse().status == 413
    conn.close()
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    conn.putrequest("POST", "/ocsp")
    conn.endheaders()
    assert conn.getresponse().status == 411
    conn.close()


def test_without_refresh_the_stored_crl_is_served(pki_sqlite_office: Office) -> None:
    office = pki_sqlite_office
    office.issue_certificate("pc.mayor")
    stored = office.latest_crl()
    assert stored is not None
    office.revoke("pc.mayor")
    with office.pki_server(port=0) as server:
        assert _get(f"{server.url}/crl/issuing.crl")[2] == stored.der
        office.publish_crl()
        assert x509.load_der_x509_crl(
            _get(f"{server.url}/crl/issuing.crl")[2]
        ).get_revoked_certificate_by_serial_number(int(office.certificates("pc.mayor")[0].serial, 16))


def test_service_keys_are_unlocked_at_start(pki_sqlite_office: Office, home: Path) -> None:
    with (
        open_office(home, passphrases=StaticPassphrases({"tsa": "a wrong one"}, default=PASSPHRASE)) as office,
        pytest.raises(WrongPassphrase, match="tsa"),
    ):
        office.pki_server(port=0)


def test_server_on_postgresql_answers_from_the_shared_register(pki_office: Office, tmp_path: Path) -> None:
    pki_office.issue_certificate("pc.mayor")
    cert, issuing, _root = pki_office.export_chain("pc.mayor")
    with pki_office.pki_server(port=0) as server:
        good = ocsp.load_der_ocsp_response(
            _post(f"{server.url}/ocsp", make_request(cert, issuing), "application/ocsp-request")
        )
        assert good.certificate_status is ocsp.OCSPCertStatus.GOOD
        pki_office.revoke("pc.mayor", "privilege-withdrawn")
        bad = ocsp.load_der_ocsp_response(
            _post(f"{server.url}/ocsp", make_request(cert, issuing), "application/ocsp-request")
        )
        assert bad.certificate_status is ocsp.OCSPCertStatus.REVOKED
        assert bad.revocation_reason is x509.ReasonFlags.privilege_withdrawn
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.url)
