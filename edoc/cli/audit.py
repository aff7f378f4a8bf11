"""``edoc audit …``: the tamper-evident log (and ``edoc doc history``, a view over it).

``edoc audit verify --bundle DIR --key AUDIT_KEY.pem`` needs no office and no database: it is
what an auditor runs on their own machine.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from edoc.cli.output import emit, err, table
from edoc.cli.state import State, state

if TYPE_CHECKING:
    from edoc.audit.checkpoint import Checkpoint
    from edoc.audit.verify import AuditReport

app = typer.Typer(
    help="The tamper-evident audit log: verify, export, proofs, checkpoints, witnesses.", no_args_is_help=True
)
key_app = typer.Typer(help="The office's audit key, which signs checkpoints.", no_args_is_help=True)
app.add_typer(key_app, name="key")

TRUST_HELP = "Root certificate (PEM) that actors' and witnesses' certificates must chain to; repeatable."
OUTSIDE_HELP = (
    "A checkpoint kept outside the office (a witness's copy, a saved checkpoint, an earlier bundle); "
    "the log must still match it. Repeatable."
)


def _bangkok(at: Any, tz: str = "Asia/Bangkok") -> str:
    from zoneinfo import ZoneInfo

    return f"{at.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M:%S}"


def _progress(st: State, total: int | None, label: str) -> Any:
    """A progress bar on stderr (only on a terminal), and the callback that advances it."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err(),
        transient=True,
        disable=not sys.stderr.isatty(),
    )
    task = bar.add_task(label, total=total)
    return bar, lambda done: bar.update(task, completed=done)


@app.command("verify")
def verify(
    ctx: typer.Context,
    bundle: Annotated[
        Path | None, typer.Option("--bundle", help="Check an exported bundle instead of the database (offline).")
    ] = None,
    key: Annotated[
        Path | None,
        typer.Option("--key", help="The audit public key (PEM) you trust; required with --bundle."),
    ] = None,
    trust: Annotated[list[Path] | None, typer.Option("--trust", help=TRUST_HELP)] = None,
    checkpoint: Annotated[list[Path] | None, typer.Option("--checkpoint", help=OUTSIDE_HELP)] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Processes for actors' signatures (default: all cores).")
    ] = None,
) -> None:
    """Recompute the whole log and check every hash, checkpoint, signature and witness; exit 1
    on any mismatch, naming the first bad event."""
    from edoc.audit.bundle import load_key, load_outside, load_roots, verify_bundle
    from edoc.errors import InvalidField

    st = state(ctx)
    roots = load_roots(trust or [])
    outside = [o for path in checkpoint or [] for o in load_outside(path)]
    tz = "Asia/Bangkok"
    if bundle is not None:
        if key is None:
            raise InvalidField("key", "--bundle needs --key AUDIT_KEY.pem: the audit key you were given separately")
        public = load_key(key)
        total = _manifest_events(bundle)
        bar, advance = _progress(st, total, "verify")
        with bar:
            report = verify_bundle(bundle, public, trust=roots, outside=outside, workers=workers, progress=advance)
        source = str(bundle)
    else:
        keys = [load_key(key)] if key is not None else []
        with st.office() as office:
            tz = office.settings.office.timezone
            bar, advance = _progress(st, None, "verify")
            with bar:
                report = office.verify_audit_log(
                    keys=keys, trust=roots, outside=outside, workers=workers, progress=advance
                )
        source = "database"
    _show_report(st, report, source, tz)
    if not report.ok:
        raise typer.Exit(1)


def _manifest_events(bundle: Path) -> int | None:
    import json

    try:
        value = json.loads((bundle / "manifest.json").read_text(encoding="utf-8")).get("events")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, int) else None


def _show_report(st: State, report: AuditReport, source: str, tz: str) -> None:
    from edoc.i18n import t

    lang = st.lang
    data = {"source": source, **report.to_json(lang)}

    def human(console: Any) -> None:
        latest = report.latest
        verdict = t("audit_ok", lang) if report.ok else t("audit_failed", lang)
        rows: list[tuple[str, Any]] = [
            (t("audit_verdict", lang), verdict),
            (t("audit_source", lang), source),
            (t("audit_events", lang), report.events),
            (t("audit_root", lang), report.root.hex()),
            (t("audit_checkpoints", lang), f"{report.checkpoints_ok}/{report.checkpoints}"),
            (
                t("audit_latest", lang),
                f"{latest.size} @ {_bangkok(latest.at, tz)} ({latest.key_id[:16]})" if latest else "-",
            ),
            (t("audit_signatures", lang), f"{report.signatures_ok}/{report.signatures}"),
            (t("audit_witnesses", lang), f"{report.witnesses_ok}/{report.witnesses}"),
            (t("audit_timestamps", lang), f"{report.timestamps_ok}/{report.timestamps}"),
            (t("audit_outside", lang), report.outside),
            (t("audit_uncovered", lang), report.uncovered),
            (t("audit_first_bad", lang), "-" if report.first_bad_event is None else report.first_bad_event),
        ]
        console.print(table(t("audit_title", lang), [t("field", lang), t("value", lang)], rows))
        if report.problems:
            console.print(
                table(
                    t("audit_problems", lang),
                    [t("audit_kind", lang), t("audit_event", lang), t("audit_message", lang)],
                    [(p.kind.value, "" if p.seq is None else p.seq, p.message(lang)) for p in report.problems],
                )
            )
            hidden = sum(report.counts.values()) - len(report.problems)
            if hidden > 0:
                console.print(t("audit_more_problems", lang, n=hidden))
        for note in report.notes:
            console.print(note)

    emit(st, data, human)


@app.command("export")
def export(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="New (or empty) directory for the bundle.")],
) -> None:
    """Write the whole log as a bundle an auditor checks offline (events, checkpoints, keys,
    certificates)."""
    from edoc.i18n import t

    st = state(ctx)
    with st.office() as office:
        summary = office.export_audit_log(out)
    data = {
        "out": str(summary.path),
        "events": summary.events,
        "root": summary.root,
        "checkpoints": summary.checkpoints,
        "latest_checkpoint": summary.latest_checkpoint,
        "certificates": summary.certificates,
    }
    uncovered = summary.events - (summary.latest_checkpoint or 0)
    emit(
        st,
        data,
        lambda c: c.print(
            t("audit_exported", lang=st.lang, out=summary.path, n=summary.events, cp=summary.latest_checkpoint or 0)
            + (f"\n{t('audit_export_uncovered', st.lang, n=uncovered)}" if uncovered else "")
        ),
    )


def _event_id(value: str, name: str = "EVENT_ID") -> int:
    from edoc.errors import InvalidField

    text = value.strip()
    if not text.isascii() or not text.isdigit():
        raise InvalidField(name, f"{value!r} is not an event number (0, 1, 2, …)")
    return int(text)


@app.command("proof")
def proof(
    ctx: typer.Context,
    event_id: Annotated[str, typer.Argument(metavar="EVENT_ID", help="The event's sequence number.")],
    size: Annotated[int | None, typer.Option("--size", min=1, help="Prove against this checkpoint size.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Also write the proof (JSON) to this file.")] = None,
) -> None:
    """Prove that an event is in the log: its audit path (ceil(log2 n) hashes) to a signed
    checkpoint."""
    import json

    from edoc.i18n import t

    st = state(ctx)
    seq = _event_id(event_id)
    with st.office() as office:
        tz = office.settings.office.timezone
        result = office.audit_proof(seq, size=size)
    data = result.to_json()
    if out is not None:
        out.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    lang = st.lang

    def human(console: Any) -> None:
        cp = result.checkpoint
        rows: list[tuple[str, Any]] = [
            (t("audit_event", lang), result.seq),
            (t("audit_leaf_hash", lang), result.leaf_hash.hex()),
            (t("audit_tree_size", lang), result.size),
            (t("audit_root", lang), result.root.hex()),
            (
                t("audit_checkpoint", lang),
                f"{cp.size} @ {_bangkok(cp.at, tz)} ({cp.key_id[:16]})" if cp else t("audit_unsigned", lang),
            ),
            (t("audit_path_length", lang), len(result.path)),
        ]
        rows += [(f"  {i}", h.hex()) for i, h in enumerate(result.path)]
        console.print(table(t("audit_proof_title", lang), [t("field", lang), t("value", lang)], rows))
        console.print(result.leaf.decode(), soft_wrap=True, markup=False)

    emit(st, data, human)


@app.command("consistency")
def consistency(
    ctx: typer.Context,
    old: Annotated[int, typer.Argument(min=1, help="The older size (a checkpoint's).")],
    new: Annotated[int | None, typer.Argument(min=1, help="The newer size (default: the newest checkpoint).")] = None,
) -> None:
    """Prove that the log of OLD events is a prefix of the log of NEW events."""
    from edoc.i18n import t

    st = state(ctx)
    with st.office() as office:
        result = office.audit_consistency(old, new)
    lang = st.lang
    rows: list[tuple[str, Any]] = [
        (t("audit_old", lang), f"{result.old_size}  {result.old_root.hex()}"),
        (t("audit_new", lang), f"{result.new_size}  {result.new_root.hex()}"),
        (t("audit_path_length", lang), len(result.path)),
    ] + [(f"  {i}", h.hex()) for i, h in enumerate(result.path)]
    emit(st, result.to_json(), lambda c: c.print(table(t("audit_consistency_title", lang), ["", ""], rows)))


def _checkpoint_rows(cps: list[Checkpoint], tz: str, tokens: dict[int, bytes]) -> list[tuple[Any, ...]]:
    return [(c.size, _bangkok(c.at, tz), c.root.hex(), c.key_id[:16], _stamp_time(tokens.get(c.size), tz)) for c in cps]


def _stamp_time(token: bytes | None, tz: str) -> str:
    """When the TSA stamped a checkpoint ('-' when it was not)."""
    if token is None:
        return "-"
    from edoc.audit.timestamp import read_token

    try:
        return _bangkok(read_token(token).gen_time, tz)
    except ValueError:
        return "?"


def _checkpoint_headers(lang: str) -> list[str]:
    from edoc.i18n import t

    return [
        t("audit_tree_size", lang),
        t("date", lang),
        t("audit_root", lang),
        t("audit_key", lang),
        t("audit_tsa_time", lang),
    ]


@app.command("checkpoint")
def checkpoint(
    ctx: typer.Context,
    out: Annotated[Path | None, typer.Option("--out", help="Also save the checkpoint (JSON) to this file.")] = None,
) -> None:
    """Sign a checkpoint of the whole log now (needs the audit key's passphrase)."""
    import json

    from edoc.i18n import t

    st = state(ctx)
    with st.office() as office:
        tz = office.settings.office.timezone
        cp, created = office.audit_checkpoint()
        tokens = office.audit_timestamp_tokens()
    data = {**cp.to_json(), "created": created, "timestamped": cp.size in tokens}
    if out is not None:
        out.write_text(json.dumps(cp.to_json(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    lang = st.lang
    emit(
        st,
        data,
        lambda c: c.print(
            table(
                t("audit_checkpoint", lang) + ("" if created else f" ({t('audit_unchanged', lang)})"),
                _checkpoint_headers(lang),
                _checkpoint_rows([cp], tz, tokens),
            )
        ),
    )


@app.command("checkpoints")
def checkpoints(ctx: typer.Context) -> None:
    """List the signed checkpoints."""
    from edoc.i18n import t

    st = state(ctx)
    with st.office() as office:
        tz = office.settings.office.timezone
        cps = office.audit_checkpoints()
        tokens = office.audit_timestamp_tokens()
    lang = st.lang
    emit(
        st,
        {"checkpoints": [{**c.to_json(), "timestamped": c.size in tokens} for c in cps]},
        lambda c: c.print(
            table(
                t("audit_checkpoints", lang),
                _checkpoint_headers(lang),
                _checkpoint_rows(cps, tz, tokens),
            )
        ),
    )


@app.command("timestamp")
def timestamp(
    ctx: typer.Context,
    size: Annotated[
        int | None, typer.Argument(metavar="CHECKPOINT", min=0, help="The checkpoint's size (default: the newest).")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Also write the token (DER) to this file.")] = None,
) -> None:
    """Have a checkpoint time-stamped now by the office's TSA (RFC 3161), e.g. one made while the
    TSA was down; the token is checked against the office's trust roots before it is kept."""
    import hashlib

    from edoc.audit.timestamp import read_token
    from edoc.i18n import t

    st = state(ctx)
    with st.office() as office:
        tz = office.settings.office.timezone
        cp, token, created = office.audit_timestamp(size)
    info = read_token(token)
    if out is not None:
        out.write_bytes(token)
    data = {
        "size": cp.size,
        "checkpoint": cp.to_json(),
        "created": created,
        "tsa": info.tsa,
        "time": info.gen_time.isoformat(),
        "token_sha256": hashlib.sha256(token).hexdigest(),
    }
    lang = st.lang
    text = t("audit_timestamped", lang, size=cp.size, tsa=info.tsa, time=_bangkok(info.gen_time, tz))
    emit(st, data, lambda c: c.print(text + ("" if created else f" ({t('audit_timestamp_kept', lang)})")))


@app.command("witness")
def witness(
    ctx: typer.Context,
    agency: Annotated[str, typer.Option("--agency", help="Code of the witnessing agency (its seal signs).")],
    size: Annotated[int | None, typer.Option("--size", min=1, help="The checkpoint (default: the newest).")] = None,
    previous: Annotated[
        Path | None,
        typer.Option("--previous", help="The agency's own copy of the last checkpoint it countersigned."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Save the countersigned checkpoint for the agency to keep.")
    ] = None,
) -> None:
    """Countersign a checkpoint as another agency, after checking that it extends what that
    agency countersigned before."""
    import json

    from edoc.audit.bundle import WITNESS_COPY, load_outside
    from edoc.i18n import t

    st = state(ctx)
    earlier = load_outside(previous)[-1].checkpoint if previous is not None else None
    with st.office() as office:
        cs = office.witness_checkpoint(agency, size=size, previous=earlier)
        cp = next(c for c in office.audit_checkpoints() if c.size == cs.size)
    data = {"format": WITNESS_COPY, "checkpoint": cp.to_json(), "cosignature": cs.to_json()}
    if out is not None:
        out.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    emit(st, data, lambda c: c.print(t("audit_witnessed", st.lang, agency=cs.agency, size=cs.size)))


@app.command("check-proof")
def check_proof(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A proof written by 'edoc audit proof --out'.")],
    key: Annotated[Path, typer.Option("--key", help="The audit public key (PEM) you trust.")],
) -> None:
    """Check a saved inclusion proof offline (no office, no database); exit 1 if it fails."""
    import json

    from edoc.audit.bundle import load_key
    from edoc.audit.proofs import InclusionProof
    from edoc.errors import BundleInvalid
    from edoc.i18n import t

    st = state(ctx)
    try:
        proof_value = InclusionProof.from_json(json.loads(file.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise BundleInvalid(str(file), str(exc)) from None
    why = proof_value.check(load_key(key))
    data = {"ok": why is None, "seq": proof_value.seq, "size": proof_value.size, "reason": why}
    emit(
        st,
        data,
        lambda c: c.print(
            t("audit_proof_ok", st.lang, seq=proof_value.seq, size=proof_value.size)
            if why is None
            else t("audit_proof_bad", st.lang, why=why)
        ),
    )
    if why is not None:
        raise typer.Exit(1)


# --- the audit key -----------------------------------------------------------------------------------


def _new_passphrase(st: State) -> bytes | None:
    """The new audit key's passphrase: from the passphrase file, else asked twice at a prompt."""
    import getpass

    from edoc.errors import InvalidField, PassphraseRequired

    if st.passphrase_file or os.environ.get("EDOC_PASSPHRASE_FILE"):
        return None  # the office's passphrase source answers for owner 'audit'
    if not sys.stdin.isatty():
        raise PassphraseRequired("audit")
    lang = st.lang
    first = getpass.getpass("รหัสผ่านของกุญแจตรวจสอบ: " if lang == "th" else "Passphrase for the audit key: ")
    second = getpass.getpass("ยืนยันรหัสผ่าน: " if lang == "th" else "Again, to confirm: ")
    if first != second:
        raise InvalidField("passphrase", "the two entries differ")
    return first.encode("utf-8")


@key_app.command("create")
def key_create(
    ctx: typer.Context,
    algorithm: Annotated[str, typer.Option("--algorithm", help="ed25519 (default) or p256.")] = "ed25519",
) -> None:
    """Make the office's audit key (sealed in the database; passphrase owner 'audit')."""
    from edoc.i18n import t

    st = state(ctx)
    passphrase = _new_passphrase(st)
    with st.office() as office:
        info = office.create_audit_key(algorithm, passphrase=passphrase)
    data = {"key_id": info.key_id, "algorithm": info.algorithm, "origin": info.origin, "public_key": info.public_pem}
    emit(st, data, lambda c: c.print(t("audit_key_created", st.lang, key_id=info.key_id, origin=info.origin)))


@key_app.command("export")
def key_export(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Where to write the public key (PEM).")],
) -> None:
    """Write the audit public key (PEM): what auditors need to check the log."""
    st = state(ctx)
    with st.office() as office:
        info = office.audit_key()
    out.write_text(info.public_pem, encoding="ascii")
    emit(st, {"out": str(out), "key_id": info.key_id}, lambda c: c.print(f"{out}\t{info.key_id}"))


@key_app.command("show")
def key_show(ctx: typer.Context) -> None:
    """Show the audit key's id, algorithm and public key."""
    st = state(ctx)
    with st.office() as office:
        info = office.audit_key()
    data = {"key_id": info.key_id, "algorithm": info.algorithm, "origin": info.origin, "public_key": info.public_pem}
    emit(st, data, lambda c: c.print(f"{info.key_id}\t{info.algorithm}\t{info.origin}\n{info.public_pem}"))


# --- edoc doc history ----------------------------------------------------------------------------------


def history(
    ctx: typer.Context,
    id_: Annotated[str, typer.Argument(metavar="ID", help="The document's id.")],
    as_user: Annotated[str | None, typer.Option("--as", help="Who asks (username); default $EDOC_USER.")] = None,
    bundle: Annotated[
        Path | None, typer.Option("--bundle", help="Read the history from an exported audit bundle (offline).")
    ] = None,
) -> None:
    """A document's history, straight from the audit log."""
    from edoc.cli.identity import acting_user, document_id
    from edoc.i18n import t

    st = state(ctx)
    doc_id = document_id(id_)
    tz = "Asia/Bangkok"
    if bundle is not None:
        from edoc.audit.bundle import bundle_history

        entries = bundle_history(bundle, doc_id)
    else:
        user = acting_user(as_user)
        with st.office() as office:
            tz = office.settings.office.timezone
            entries = office.document_history(doc_id, as_user=user)
    lang = st.lang
    data = {
        "id": doc_id,
        "events": [
            {
                "seq": e.seq,
                "at": e.at.isoformat(),
                "actor": e.actor,
                "agency": e.agency,
                "act": e.act,
                "document_id": e.document_id,
                "payload": e.payload,
                "signed_by": e.signed_by,
            }
            for e in entries
        ],
    }

    def summary(payload: dict[str, Any]) -> str:
        import json

        text = json.dumps(payload, ensure_ascii=False, sort_keys=True)
        return text if len(text) <= 100 else text[:99] + "…"

    emit(
        st,
        data,
        lambda c: c.print(
            table(
                f"{t('audit_history', lang)} {doc_id}",
                [
                    t("audit_event", lang),
                    t("date", lang),
                    t("audit_actor", lang),
                    t("agency", lang),
                    t("audit_act", lang),
                    t("audit_details", lang),
                    t("audit_signed_by", lang),
                ],
                [
                    (e.seq, _bangkok(e.at, tz), e.actor, e.agency, e.act, summary(e.payload), e.signed_by or "")
                    for e in entries
                ],
            )
        ),
    )
