"""``edoc pki …`` as an operator meets it: real processes, files, exit codes, JSON, openssl."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import CliResult, invoke, run_cli
from tests.fixtures_pki import PASSPHRASE, build_pilot, free_port, openssl, write_settings


@pytest.fixture
def cli_home(tmp_path: Path) -> Path:
    """A home with the pilot directory (no CA yet) and a passphrase file."""
    from edoc.office import init_office, open_office

    home = tmp_path / "home"
    init_office(home, name="เทศบาลเมืองปากช่อง")
    write_settings(home, kdf_rounds=10_000, base_url=f"http://127.0.0.1:{free_port()}")
    with open_office(home) as office:
        build_pilot(office)
    (tmp_path / "pass.txt").write_text(PASSPHRASE + "\n")
    return home


def _env(home: Path) -> dict[str, str]:
    return {"EDOC_PASSPHRASE_FILE": str(home.parent / "pass.txt")}


def _run(home: Path, *args: str, passphrases: str | None = "pass.txt") -> CliResult:
    """The CLI in this process (fast), with ``--passphrase-file`` unless told otherwise."""
    extra = ["--passphrase-file", str(home.parent / passphrases)] if passphrases else []
    return invoke(*args, *extra, home=home)


def test_the_whole_cli_flow(cli_home: Path, tmp_path: Path) -> None:
    r = _run(cli_home, "pki", "init", "--key", "p384", "--json")
    assert r.code == 0, r.stderr
    init = r.json()
    assert init["root"]["kind"] == "root" and init["issuing"]["key_type"] == "p384"
    assert init["tsa"]["kind"] == "tsa" and init["ocsp"]["kind"] == "ocsp"

    r = _run(cli_home, "pki", "issue", "pc.mayor", "--json")
    assert r.code == 0, r.stderr
    mayor = r.json()
    assert mayor["owner"] == "pc.mayor" and mayor["status"] == "valid" and mayor["key_type"] == "p256"
    r = _run(cli_home, "pki", "issue", "--agency", "PAKCHONG", "--key", "rsa2048", "--json")
    assert r.code == 0, r.stderr
    assert r.json()["owner"] == "agency:PAKCHONG"
    owners = tmp_path / "owners.txt"
    owners.write_text("# the rest of Pak Chong\npc.head\npc.clerk\nagency:NMA-PROV\n")
    r = _run(cli_home, "pki", "issue", "--from", str(owners), "--json")
    assert r.code == 0, r.stderr
    assert [c["owner"] for c in r.json()["certificates"]] == ["pc.head", "pc.clerk", "agency:NMA-PROV"]

    root, chain = tmp_path / "root.pem", tmp_path / "mayor.pem"
    assert _run(cli_home, "pki", "export-root", "--out", str(root), passphrases=None).code == 0
    r = _run(cli_home, "pki", "export-cert", "pc.mayor", "--out", str(chain), "--json", passphrases=None)
    assert r.code == 0, r.stderr
    assert len(r.json()["chain"]) == 2
    assert chain.read_text().count("BEGIN CERTIFICATE") == 3  # the certificate, then its issuing chain
    assert openssl("verify", "-CAfile", str(root), "-untrusted", str(chain), str(chain)).returncode == 0

    r = _run(cli_home, "pki", "revoke", "pc.clerk", "--reason", "key-compromise", "--json")
    assert r.code == 0, r.stderr
    revoked = r.json()
    assert revoked["revoked"][0]["status"] == "revoked" and revoked["crl"]["revoked"] == 1
    crl = tmp_path / "issuing.crl"
    r = _run(cli_home, "pki", "crl", "--out", str(crl), "--json")
    assert r.code == 0, r.stderr
    assert r.json()["number"] == 3
    text = openssl("crl", "-inform", "DER", "-in", str(crl), "-noout", "-text").stdout
    assert "Key Compromise" in text

    r = _run(cli_home, "pki", "list", "--agency", "PAKCHONG", "--json", passphrases=None)
    statuses = {c["owner"]: c["status"] for c in r.json()["certificates"]}
    assert statuses == {"pc.mayor": "valid", "agency:PAKCHONG": "valid", "pc.head": "valid", "pc.clerk": "revoked"}
    r = _run(cli_home, "pki", "status", "--json", passphrases=None)
    status = r.json()
    assert status["keys_here"] is True and status["crl"]["number"] == 3 and status["certificates"]["user"] == 3
    r = _run(cli_home, "pki", "list", "--lang", "th", passphrases=None)
    assert r.code == 0 and "หมายเลข" in r.stdout and "นายสมศักดิ์" in r.stdout


def test_exit_codes_and_messages(cli_home: Path, tmp_path: Path) -> None:
    r = _run(cli_home, "pki", "issue", "pc.mayor")
    assert r.code == 4 and "pki init" in r.stderr  # no CA yet
    assert _run(cli_home, "pki", "init", "--key", "p384").code == 0
    cases = [
        (["pki", "init"], 5, "already has its CA"),
        (["pki", "issue", "ghost"], 4, "ghost"),
        (["pki", "issue", "pc.mayor", "--key", "dsa"], 2, "key"),
        (["pki", "issue"], 2, "owner"),
        (["pki", "revoke", "pc.mayor", "--reason", "bored"], 2, "reason"),
        (["pki", "revoke", "pc.mayor"], 4, "no current certificate"),
        (["pki", "export-cert", "pc.mayor"], 4, "no current certificate"),
        (["pki", "list", "--kind", "nope"], 2, "kind"),
    ]
    for args, code, needle in cases:
        r = _run(cli_home, *args)
        assert r.code == code, (args, r.stdout, r.stderr)
        assert needle in r.stderr, (args, r.stderr)
        assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1
    assert _run(cli_home, "pki", "issue", "pc.mayor").code == 0
    r = _run(cli_home, "pki", "issue", "pc.mayor")
    assert r.code == 5 and "--replace" in r.stderr
    (tmp_path / "wrong.txt").write_text("not the passphrase\n")
    real = run_cli("pki", "issue", "pc.head", home=cli_home, env={"EDOC_PASSPHRASE_FILE": str(tmp_path / "wrong.txt")})
    assert real.returncode == 3 and "does not unlock the key of ca" in real.stderr
    r = _run(cli_home, "pki", "issue", "pc.head", passphrases=None)  # no passphrase source, no terminal
    assert r.code == 2 and "passphrase" in r.stderr
    r = _run(cli_home, "pki", "issue", "pc.head", "--lang", "th", passphrases=None)
    assert r.code == 2 and "รหัสผ่าน" in r.stderr


def test_trust_commands(cli_home: Path, tmp_path: Path) -> None:
    from tests.test_pki import tmp_ca_cert

    env = _env(cli_home)
    assert run_cli("pki", "init", "--key", "p384", home=cli_home, env=env).returncode == 0
    nrca = tmp_path / "nrca.pem"
    from cryptography.hazmat.primitives.serialization import Encoding

    nrca.write_bytes(tmp_ca_cert().public_bytes(Encoding.PEM))
    r = invoke("pki", "trust", "add", str(nrca), "--label", "Thailand NRCA", "--json", home=cli_home)
    assert r.code == 0, r.stderr
    fingerprint = r.json()["added"][0]["fingerprint"]
    r = invoke("pki", "trust", "list", "--json", home=cli_home)
    assert [a["label"] for a in r.json()["anchors"]] == ["pilot root", "Thailand NRCA"]
    assert invoke("pki", "trust", "add", str(nrca), home=cli_home).code == 5
    assert invoke("pki", "trust", "add", str(tmp_path / "missing.pem"), home=cli_home).code == 2
    assert invoke("pki", "trust", "remove", fingerprint[:12], "--json", home=cli_home).code == 0
    assert invoke("pki", "trust", "remove", "abcdef", home=cli_home).code == 4


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_answers_openssl_until_interrupted(cli_home: Path, tmp_path: Path, stop: signal.Signals) -> None:
    """The server answers openssl's OCSP client, and stops cleanly on SIGINT or SIGTERM, even
    when started the way a shell starts a background job: with SIGINT ignored (a CI runner
    that started the tests in the background made the server deaf to SIGINT)."""
    env = _env(cli_home)
    assert run_cli("pki", "init", "--key", "p384", home=cli_home, env=env).returncode == 0
    assert run_cli("pki", "issue", "pc.mayor", home=cli_home, env=env).returncode == 0
    assert run_cli("pki", "export-root", "--out", str(tmp_path / "root.pem"), home=cli_home).returncode == 0
    assert (
        run_cli("pki", "export-cert", "pc.mayor", "--out", str(tmp_path / "chain.pem"), home=cli_home).returncode == 0
    )
    chain = tmp_path / "chain.pem"
    certs = chain.read_text().split("-----END CERTIFICATE-----\n")
    (tmp_path / "mayor.pem").write_text(certs[0] + "-----END CERTIFICATE-----\n")
    (tmp_path / "issuing.pem").write_text(certs[1] + "-----END CERTIFICATE-----\n")
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("EDOC_")}
    full_env.update({"EDOC_LANG": "en", **env})
    proc = subprocess.Popen(
        [sys.executable, "-m", "edoc", "--home", str(cli_home), "pki", "serve", "--port", "0", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=full_env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),  # as "cmd &" in a script
    )
    try:
        assert proc.stdout is not None
        started = json.loads(proc.stdout.readline())
        url = started["url"]
        with urllib.request.urlopen(f"{url}/health", timeout=30) as response:
            assert response.read() == b"ok\n"
        issuing = str(tmp_path / "issuing.pem")
        r = openssl(
            "ocsp", "-issuer", issuing, "-cert", str(tmp_path / "mayor.pem"), "-url", f"{url}/ocsp",
            "-CAfile", str(tmp_path / "root.pem"), "-verify_other", issuing,
        )  # fmt: skip
        assert "Response verify OK" in r.stdout + r.stderr and ": good" in r.stdout
    finally:
        proc.send_signal(stop)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # pragma: no cover - a hang is a failure
            proc.kill()
            raise
    assert code == 0
    assert "serving CRL, OCSP and time-stamps" in (proc.stderr.read() if proc.stderr else "")


def test_demo_home_uses_its_demo_passphrases(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    demo = invoke("--json", "demo", home=home)
    assert demo.code == 0, demo.stderr
    steps = {s["step"]: s for s in demo.json()["steps"]}
    details = steps["certificates"]["details"]
    assert details["users"] >= 10 and details["seals"] == 6
    assert details["chain"][0].startswith("UID=pc.mayor") and "Root CA" in details["chain"][-1]
    assert (home / "demo-passphrases.toml").stat().st_mode & 0o777 == 0o600
    r = run_cli("pki", "issue", "pc.officer", "--replace", "--json", home=home)
    assert r.returncode == 0, r.stderr
    assert "demo home: using the demo passphrases" in r.stderr
    # the same file in a home that is not a demo home is ignored
    other = tmp_path / "other"
    assert run_cli("init", home=other).returncode == 0
    (other / "demo-passphrases.toml").write_text('[passphrases]\ndefault = "demo-only-not-secret"\n')
    r = run_cli("pki", "init", home=other)
    assert r.returncode == 2 and "passphrase" in r.stderr
