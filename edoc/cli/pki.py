"""``edoc pki …``: the pilot's CA, certificates, revocation, CRL, OCSP and time-stamps.

Heavy libraries (cryptography, SQLAlchemy) are imported inside the commands only.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from edoc.cli.output import emit, err, table
from edoc.cli.state import State, state

if TYPE_CHECKING:
    from edoc.pki.model import CertificateInfo, CrlInfo, TrustAnchor

app = typer.Typer(
    help="The pilot's CA: certificates, revocation, CRL, OCSP and time-stamps (ผู้ออกใบรับรอง).",
    no_args_is_help=True,
)
trust_app = typer.Typer(
    help="The trust list: roots edoc trusts when verifying (never the OS store).", no_args_is_help=True
)
app.add_typer(trust_app, name="trust")

REASONS = (
    "unspecified | key-compromise | ca-compromise | affiliation-changed | superseded | "
    "cessation-of-operation | privilege-withdrawn"
)


def cert_json(info: CertificateInfo, now: Any = None) -> dict[str, Any]:
    """A certificate as ``--json`` shows it."""
    from datetime import UTC, datetime

    moment = now or datetime.now(UTC)
    return {
        "serial": info.serial,
        "kind": info.kind.value,
        "owner": info.owner,
        "subject": info.subject,
        "issuer": info.issuer,
        "key_type": info.key_type.value,
        "key_storage": info.key_storage.value,
        "pkcs11_token": info.pkcs11_token,
        "not_before": info.not_before.isoformat(),
        "not_after": info.not_after.isoformat(),
        "fingerprint": info.fingerprint,
        "status": info.status(moment),
        "revoked_at": info.revoked_at.isoformat() if info.revoked_at else None,
        "revocation_reason": info.revocation_reason.value if info.revocation_reason else None,
    }


def _crl_json(crl: CrlInfo) -> dict[str, Any]:
    return {
        "issuer": crl.issuer.value,
        "number": crl.number,
        "this_update": crl.this_update.isoformat(),
        "next_update": crl.next_update.isoformat(),
        "revoked": crl.revoked,
    }


def _anchor_json(anchor: TrustAnchor) -> dict[str, Any]:
    return {
        "fingerprint": anchor.fingerprint,
        "subject": anchor.subject,
        "label": anchor.label,
        "source": anchor.source,
        "added_at": anchor.added_at.isoformat(),
    }


def _cert_table(st: State, title: str, rows: list[dict[str, Any]]) -> Any:
    from edoc.i18n import t

    lang = st.lang
    return table(
        title,
        [
            t("serial", lang),
            t("kind", lang),
            t("owner", lang),
            t("subject", lang),
            t("key", lang),
            t("valid_until", lang),
            t("status", lang),
        ],
        [
            (
                r["serial"],
                r["kind"],
                r["owner"],
                r["subject"],
                r["key_type"] + (f" ({r['pkcs11_token']})" if r["pkcs11_token"] else ""),
                r["not_after"][:10],
                r["status"] + (f" ({r['revocation_reason']})" if r["revocation_reason"] else ""),
            )
            for r in rows
        ],
    )


def _write(path: Path, data: bytes) -> None:
    if str(path) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    from edoc.errors import InvalidField

    try:
        path.write_bytes(data)
    except OSError as exc:
        raise InvalidField("out", f"cannot write {path}: {exc.strerror}") from None


def _pem(certs: list[Any]) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding

    return b"".join(c.public_bytes(Encoding.PEM) for c in certs)


@app.command("init")
def init(
    ctx: typer.Context,
    key: Annotated[str | None, typer.Option("--key", help="rsa3072 (default) or p384.")] = None,
    organisation: Annotated[
        str | None, typer.Option("--organisation", help="O of the CA names (default: the office's name).")
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help="Where 'edoc pki serve' is published; written into every certificate."),
    ] = None,
    service_key: Annotated[
        str | None, typer.Option("--service-key", help="Key of the TSA and OCSP certificates: p256 or rsa2048.")
    ] = None,
) -> None:
    """Create the pilot's root CA and issuing CA (and the TSA and OCSP certificates)."""
    from edoc.i18n import t

    st = state(ctx)
    with st.office() as office:
        ca = office.pki_init(key, organisation=organisation, base_url=base_url, service_key=service_key)
    data = {
        "root": cert_json(ca.root),
        "issuing": cert_json(ca.issuing),
        "tsa": cert_json(ca.tsa) if ca.tsa else None,
        "ocsp": cert_json(ca.ocsp) if ca.ocsp else None,
        "base_url": ca.base_url,
        "home": str(st.home / "pki"),
    }
    rows: list[dict[str, Any]] = [
        r for r in (data["root"], data["issuing"], data["tsa"], data["ocsp"]) if isinstance(r, dict)
    ]

    def human(console: Any) -> None:
        console.print(_cert_table(st, t("pki_ready", st.lang, path=st.home / "pki"), rows))

    emit(st, data, human)


@app.command("status")
def status(ctx: typer.Context) -> None:
    """Show the CA: root, issuing CA, TSA and OCSP certificates, and the latest CRL."""
    from edoc.i18n import t

    st = state(ctx)
    with st.office() as office:
        ca = office.pki_status()
        crl = office.latest_crl()
        counts: dict[str, int] = {}
        for info in office.certificates():
            counts[info.kind.value] = counts.get(info.kind.value, 0) + 1
    data = {
        "root": cert_json(ca.root),
        "issuing": cert_json(ca.issuing),
        "tsa": cert_json(ca.tsa) if ca.tsa else None,
        "ocsp": cert_json(ca.ocsp) if ca.ocsp else None,
        "base_url": ca.base_url,
        "keys_here": ca.keys_here,
        "crl": _crl_json(crl) if crl else None,
        "certificates": counts,
    }

    def human(console: Any) -> None:
        rows = [r for r in (data["root"], data["issuing"], data["tsa"], data["ocsp"]) if isinstance(r, dict)]
        console.print(_cert_table(st, t("pki_status", st.lang, url=ca.base_url), rows))
        if crl is not None:
            console.print(
                f"CRL #{crl.number}: {crl.revoked} {t('revoked', st.lang)}, "
                f"{t('next_update', st.lang)} {crl.next_update.isoformat(timespec='seconds')}"
            )
        console.print(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))

    emit(st, data, human)


@app.command("issue")
def issue(
    ctx: typer.Context,
    usernames: Annotated[list[str] | None, typer.Argument(help="Users to certify.")] = None,
    agency: Annotated[
        list[str] | None, typer.Option("--agency", help="Issue the seal certificate of this agency (repeatable).")
    ] = None,
    key: Annotated[str | None, typer.Option("--key", help="p256 (default) or rsa2048.")] = None,
    pkcs11_token: Annotated[
        str | None, typer.Option("--pkcs11-token", help="Create the key on the PKCS#11 token with this label.")
    ] = None,
    from_file: Annotated[
        Path | None, typer.Option("--from", help="File with one owner per line (username or agency:CODE).")
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace a current certificate (the old one is revoked: superseded).")
    ] = False,
    actor: Annotated[str | None, typer.Option("--as", help="The admin issuing (checked against permissions).")] = None,
) -> None:
    """Issue signing certificates to users, or seal certificates to agencies (--agency CODE)."""
    from edoc.errors import InvalidField
    from edoc.i18n import t
    from edoc.pki.model import CertificateRequest, agency_owner

    st = state(ctx)
    owners = list(usernames or []) + [agency_owner(code) for code in agency or []]
    if from_file is not None:
        try:
            text = from_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidField("from", f"cannot read {from_file}: {exc.strerror}") from None
        owners += [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not owners:
        raise InvalidField("owner", "name at least one username, --agency CODE or --from FILE")
    requests = [CertificateRequest(owner, key, pkcs11_token) for owner in owners]
    with st.office() as office:
        if len(requests) > 1 and not st.json:
            from rich.progress import Progress

            with Progress(console=err(), transient=True) as bar:
                task = bar.add_task(t("issuing", st.lang), total=len(requests))
                issued = office.issue_certificates(
                    requests, replace=replace, actor=actor, progress=lambda d, n: bar.update(task, completed=d, total=n)
                )
        else:
            issued = office.issue_certificates(requests, replace=replace, actor=actor)
    rows = [cert_json(i) for i in issued]
    emit(
        st,
        {"certificates": rows} if len(rows) != 1 else rows[0],
        lambda c: c.print(_cert_table(st, t("issued", st.lang), rows)),
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    owner: Annotated[str | None, typer.Option("--owner", help="A username or agency:CODE.")] = None,
    agency: Annotated[
        str | None, typer.Option("--agency", help="Certificates of this agency's people and seal.")
    ] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="root | issuing | user | seal | tsa | ocsp")] = None,
) -> None:
    """List the certificates in the CA's register."""
    from edoc.errors import InvalidField
    from edoc.i18n import t
    from edoc.pki.model import CertKind

    st = state(ctx)
    if kind is not None and kind not in {k.value for k in CertKind}:
        raise InvalidField("kind", f"{kind!r} is not one of {' | '.join(k.value for k in CertKind)}")
    with st.office() as office:
        now = office.now()
        rows = [cert_json(i, now) for i in office.certificates(owner, kind=kind, agency=agency)]
    emit(st, {"certificates": rows}, lambda c: c.print(_cert_table(st, t("certificates", st.lang), rows)))


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="A serial (hex), or a username / agency:CODE: all its current ones.")],
    reason: Annotated[str, typer.Option("--reason", help=REASONS)] = "unspecified",
    crl: Annotated[
        bool, typer.Option("--crl/--no-crl", help="Sign a fresh CRL at once when the CA keys are in this home.")
    ] = True,
    actor: Annotated[str | None, typer.Option("--as", help="The admin revoking (checked against permissions).")] = None,
) -> None:
    """Revoke certificates (RFC 5280 reasons). OCSP says 'revoked' at once; signing is refused."""
    from edoc.i18n import t
    from edoc.pki.model import RevocationReason

    st = state(ctx)
    why = RevocationReason.parse(reason)  # a bad reason fails before any passphrase is asked
    with st.office() as office:
        publish = crl and office.pki_status().keys_here
        if publish:
            office.unlock_ca()  # fail on a wrong CA passphrase before revoking, not after
        revoked = office.revoke(target, why, actor=actor)
        fresh = office.publish_crl() if publish else None
    rows = [cert_json(i) for i in revoked]
    data = {"revoked": rows, "crl": _crl_json(fresh) if fresh else None}

    def human(console: Any) -> None:
        console.print(_cert_table(st, t("revoked_title", st.lang), rows))
        if fresh is not None:
            console.print(f"CRL #{fresh.number}: {fresh.revoked} {t('revoked', st.lang)}")
        else:
            console.print(t("crl_later", st.lang))

    emit(st, data, human)


@app.command("crl")
def crl(
    ctx: typer.Context,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the CRL here (DER; PEM if FILE ends in .pem).")
    ] = None,
) -> None:
    """Sign a fresh CRL (nextUpdate: the setting pki.crl_next_update_hours)."""
    from edoc.i18n import t

    st = state(ctx)
    with st.office() as office:
        fresh = office.publish_crl()
    if out is not None:
        _write(out, fresh.pem if out.suffix.lower() == ".pem" else fresh.der)
    data = {**_crl_json(fresh), "out": str(out) if out is not None else None}
    emit(
        st,
        data,
        lambda c: c.print(
            f"CRL #{fresh.number}: {fresh.revoked} {t('revoked', st.lang)}, "
            f"{t('next_update', st.lang)} {fresh.next_update.isoformat(timespec='seconds')}"
            + (f" -> {out}" if out else "")
        ),
    )


@app.command("export-root")
def export_root(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="PEM file to write ('-' for stdout).")] = Path("-"),
) -> None:
    """Write the pilot root certificate (PEM): what auditors and verifiers trust."""
    from edoc.pki.model import fingerprint
    from edoc.pki.profiles import der

    st = state(ctx)
    with st.office() as office:
        root = office.export_root()
    _write(out, _pem([root]))
    if str(out) != "-":
        data = {"out": str(out), "subject": root.subject.rfc4514_string(), "fingerprint": fingerprint(der(root))}
        emit(st, data, lambda c: c.print(f"{data['subject']}  SHA-256 {data['fingerprint']} -> {out}"))


@app.command("export-cert")
def export_cert(
    ctx: typer.Context,
    owner: Annotated[str, typer.Argument(help="A username, agency:CODE, or a serial (hex).")],
    out: Annotated[Path, typer.Option("--out", help="PEM file to write ('-' for stdout).")] = Path("-"),
) -> None:
    """Write a certificate followed by its issuing chain (PEM), e.g. for openssl verify."""
    from edoc.pki.model import serial_hex

    st = state(ctx)
    with st.office() as office:
        chain = office.export_chain(owner)
    _write(out, _pem(chain))
    if str(out) != "-":
        data = {
            "out": str(out),
            "serial": serial_hex(chain[0].serial_number),
            "subject": chain[0].subject.rfc4514_string(),
            "chain": [c.subject.rfc4514_string() for c in chain[1:]],
        }
        emit(st, data, lambda c: c.print("\n  <- ".join([data["subject"], *data["chain"]]) + f"\n-> {out}"))


@app.command("serve")
def serve(
    ctx: typer.Context,
    port: Annotated[
        int | None, typer.Option("--port", min=0, max=65535, help="Port (default: the one in pki.base_url).")
    ] = None,
    refresh_crl: Annotated[
        bool,
        typer.Option(
            "--refresh-crl", help="Also unlock the CA key and re-sign the CRL when stale or after revocations."
        ),
    ] = False,
) -> None:
    """Serve the CRL, OCSP and RFC 3161 time-stamping over HTTP on 127.0.0.1 until interrupted
    (Ctrl-C, SIGINT or SIGTERM)."""
    import logging
    import signal

    from edoc.i18n import t

    st = state(ctx)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(message)s")
    with st.office() as office:
        server = office.pki_server(port=port, refresh_crl=refresh_crl)
        data = {"url": server.url, "port": server.port, "base_url": office.settings.pki.base_url}
        if st.json:  # one line, at once: scripts read it to learn the port (--port 0)
            import json

            sys.stdout.write(json.dumps(data) + "\n")
            sys.stdout.flush()
        err().print(t("serving", st.lang, url=server.url))

        def interrupted(signum: int, frame: object) -> None:
            raise KeyboardInterrupt

        # a shell starts a background job ("edoc pki serve &") with SIGINT ignored, and a
        # service manager stops with SIGTERM: both end the loop the way Ctrl-C does
        signal.signal(signal.SIGINT, interrupted)
        signal.signal(signal.SIGTERM, interrupted)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()


@trust_app.command("list")
def trust_list(ctx: typer.Context) -> None:
    """List the trusted roots."""
    from edoc.i18n import t

    st = state(ctx)
    with st.office() as office:
        rows = [_anchor_json(a) for a in office.trust_anchors()]
    emit(
        st,
        {"anchors": rows},
        lambda c: c.print(
            table(
                t("trust_list", st.lang),
                [t("label", st.lang), t("subject", st.lang), "SHA-256", t("source", st.lang)],
                [(r["label"], r["subject"], r["fingerprint"], r["source"]) for r in rows],
            )
        ),
    )


@trust_app.command("add")
def trust_add(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="PEM or DER file with the CA certificate(s), e.g. the Thailand NRCA.")],
    label: Annotated[str | None, typer.Option("--label", help="A name for it (default: its CN).")] = None,
) -> None:
    """Add a root (e.g. the Thailand National Root CA) to the trust list."""
    from edoc.errors import InvalidField

    st = state(ctx)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InvalidField("file", f"cannot read {file}: {exc.strerror}") from None
    with st.office() as office:
        added = office.add_trust_root(data, label=label)
    rows = [_anchor_json(a) for a in added]
    emit(st, {"added": rows}, lambda c: c.print("\n".join(f"+ {r['label']}  {r['fingerprint']}" for r in rows)))


@trust_app.command("remove")
def trust_remove(
    ctx: typer.Context,
    fingerprint: Annotated[str, typer.Argument(help="SHA-256 fingerprint (or an unambiguous prefix).")],
) -> None:
    """Take a root off the trust list."""
    st = state(ctx)
    with st.office() as office:
        removed = office.remove_trust_root(fingerprint)
    data = _anchor_json(removed)
    emit(st, {"removed": data}, lambda c: c.print(f"- {data['label']}  {data['fingerprint']}"))
