"""The printable report: one self-contained HTML page an auditor can keep or print.

Everything is inside the page: the Sarabun font (so Thai prints correctly on a machine
without Thai fonts), the styles, and the before/after images of pages that changed (PNG, as
``data:`` URIs). No script, no external resource. A4 print layout; each file starts on a new
page.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from edoc.signing.verify.report import ChangeKind, Indication, SignatureReport, VerificationReport

_WORDS: dict[str, tuple[str, str]] = {
    "title": ("Signature verification report", "รายงานการตรวจสอบลายมือชื่ออิเล็กทรอนิกส์"),
    "generated": ("Produced on {time} by edoc {version}", "จัดทำเมื่อ {time} โดย edoc รุ่น {version}"),
    "judged": ("Validity judged as of {time}", "พิจารณาความสมบูรณ์ ณ เวลา {time}"),
    "anchors": ("Trusted root certificates", "ใบรับรองหลักที่เชื่อถือ"),
    "no_anchors": (
        "none given: no signer can be confirmed",
        "ไม่ได้ระบุ จึงยืนยันตัวผู้ลงนามไม่ได้",
    ),
    "files": ("Files", "ไฟล์"),
    "file": ("File", "ไฟล์"),
    "verdict": ("Verdict", "ผลสรุป"),
    "sha256": ("SHA-256", "ค่าแฮช SHA-256"),
    "size": ("Size", "ขนาด"),
    "bytes": ("{n} bytes", "{n} ไบต์"),
    "pages": ("Pages", "จำนวนหน้า"),
    "signature": ("Signature", "ลายมือชื่อ"),
    "timestamp_kind": ("Document time-stamp", "การประทับเวลาเอกสาร"),
    "field": ("Field", "ช่องลายมือชื่อ"),
    "signer": ("Signer", "ผู้ลงนาม"),
    "organisation": ("Agency", "หน่วยงาน"),
    "serial": ("Certificate serial", "เลขที่ใบรับรอง"),
    "issuer": ("Issued by", "ออกโดย"),
    "signing_time": ("Signing time (claimed)", "เวลาที่ลงนาม (ตามที่ระบุ)"),
    "timestamp": ("Time-stamp (proven)", "การประทับเวลา (พิสูจน์ได้)"),
    "level": ("PAdES level", "ระดับ PAdES"),
    "chain": ("Certificate chain", "สายใบรับรอง"),
    "checks": ("Checks", "ผลการตรวจ"),
    "intact": ("Signed content intact", "เนื้อหาที่ลงนามครบถ้วน"),
    "trusted": ("Chains to a trusted root", "ต่อถึงใบรับรองหลักที่เชื่อถือ"),
    "revocation": ("Revocation status", "สถานะการเพิกถอน"),
    "coverage": ("Coverage", "ขอบเขตที่ลงนาม"),
    "changes": ("Changes after signing", "การแก้ไขหลังลงนาม"),
    "visual": ("Looks as signed", "หน้าตาเหมือนขณะลงนาม"),
    "reasons": ("Why", "เหตุผล"),
    "yes": ("yes", "ใช่"),
    "no": ("no", "ไม่ใช่"),
    "none": ("-", "-"),
    "before": ("Page {page} as signed", "หน้า {page} ขณะลงนาม"),
    "after": ("Page {page} now (change outlined)", "หน้า {page} ในปัจจุบัน (กรอบแสดงส่วนที่เปลี่ยน)"),
    "change_unexplained": ("altered content", "เนื้อหาถูกแก้ไข"),
    "change_declared": ("comments or form entries", "ความเห็นหรือข้อมูลแบบฟอร์ม"),
    "change_pages": ("pages added, removed or resized", "มีการเพิ่ม ลบ หรือเปลี่ยนขนาดหน้า"),
    "legend": ("What the verdicts mean", "ความหมายของผลสรุป"),
    "legend_passed": (
        "TOTAL-PASSED: every signature is valid, chains to a trusted root, and what a reader sees is what was signed.",
        "TOTAL-PASSED (ถูกต้อง): ลายมือชื่อทุกรายการถูกต้อง ต่อถึงใบรับรองหลักที่เชื่อถือ และสิ่งที่ผู้อ่านเห็นคือสิ่งที่ลงนามไว้",
    ),
    "legend_failed": (
        "TOTAL-FAILED: a signature is broken, revoked, or the document was altered after signing. Do not rely on it.",
        "TOTAL-FAILED (ไม่ถูกต้อง): ลายมือชื่อเสียหาย ถูกเพิกถอน หรือเอกสารถูกแก้ไขหลังลงนาม ห้ามใช้อ้างอิง",
    ),
    "legend_indeterminate": (
        "INDETERMINATE: the signatures could not be confirmed with what is available (no trusted root, no "
        "revocation data, a visible but declared change). Follow the reasons; ask the sender for a B-LT letter "
        "or the issuing agency's root certificate.",
        "INDETERMINATE (ยังยืนยันไม่ได้): ยืนยันลายมือชื่อไม่ได้ด้วยข้อมูลที่มี (ไม่มีใบรับรองหลัก ไม่มีข้อมูลการเพิกถอน "
        "หรือมีการเปลี่ยนแปลงที่มองเห็นได้แต่ระบุไว้) ให้พิจารณาตามเหตุผล และขอหนังสือระดับ B-LT "
        "หรือใบรับรองหลักจากหน่วยงานผู้ส่ง",
    ),
    "TOTAL-PASSED": ("valid", "ถูกต้อง"),
    "TOTAL-FAILED": ("not valid", "ไม่ถูกต้อง"),
    "INDETERMINATE": ("cannot be confirmed", "ยังยืนยันไม่ได้"),
}


def _w(key: str, lang: str, **fields: object) -> str:
    en, th = _WORDS[key]
    text = th if lang == "th" else en
    return text.format(**fields) if fields else text


@functools.cache
def _font_face() -> str:
    """The Sarabun font, embedded (regular and bold), so Thai prints anywhere."""
    try:
        import fontpkg_sarabun

        files = Path(fontpkg_sarabun.ROOT) / "files"
        faces = []
        for weight, name in ((400, "Sarabun-Regular.ttf"), (700, "Sarabun-Bold.ttf")):
            data = base64.b64encode((files / name).read_bytes()).decode("ascii")
            faces.append(
                f"@font-face{{font-family:'EdocSarabun';font-weight:{weight};"
                f"src:url(data:font/ttf;base64,{data}) format('truetype');}}"
            )
        return "\n".join(faces)
    except Exception:  # the page still works with the reader's own Thai font
        return ""


_CSS = """
@page { size: A4; margin: 16mm 14mm; }
* { box-sizing: border-box; }
body { font-family: 'EdocSarabun', 'Sarabun', 'TH Sarabun New', 'Loma', sans-serif; font-size: 11pt;
       color: #111; margin: 0; line-height: 1.35; }
h1 { font-size: 18pt; margin: 0 0 4pt 0; }
h2 { font-size: 14pt; margin: 0 0 6pt 0; word-break: break-all; }
h3 { font-size: 12pt; margin: 10pt 0 4pt 0; }
.meta { color: #444; font-size: 10pt; margin: 2pt 0; }
.file { page-break-before: always; margin-top: 8pt; }
.file:first-of-type { page-break-before: auto; }
.badge { display: inline-block; padding: 2pt 8pt; border-radius: 4pt; font-weight: 700; color: #fff; }
.TOTAL-PASSED { background: #1b7f3a; } .TOTAL-FAILED { background: #b3141c; } .INDETERMINATE { background: #a86700; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0 8pt 0; page-break-inside: avoid; }
th, td { border: 1px solid #999; padding: 3pt 5pt; text-align: left; vertical-align: top; font-size: 10pt; }
th { background: #eee; width: 32%; }
.ok { color: #1b7f3a; font-weight: 700; } .bad { color: #b3141c; font-weight: 700; }
ul { margin: 2pt 0 6pt 16pt; padding: 0; } li { margin: 1pt 0; }
.pages { display: flex; gap: 8pt; page-break-inside: avoid; margin: 4pt 0 10pt 0; }
.pages figure { margin: 0; flex: 1; border: 1px solid #999; padding: 4pt; }
.pages img { width: 100%; height: auto; display: block; }
figcaption { font-size: 9pt; color: #333; margin-top: 3pt; }
.legend { margin-top: 14pt; border-top: 2px solid #333; padding-top: 6pt; font-size: 10pt; page-break-inside: avoid; }
.sig { border-left: 4px solid #999; padding-left: 8pt; margin: 8pt 0; }
"""


def render_html(reports: Sequence[VerificationReport], lang: str = "en") -> str:
    """One self-contained HTML page for ``reports`` in ``lang`` (``th`` or ``en``)."""
    lang = "th" if lang == "th" else "en"
    __version__ = _version()
    now = datetime.now(UTC).isoformat(timespec="seconds")
    anchors = next((r.trust_anchors for r in reports if r.trust_anchors), ())
    judged = next((r.checked_at for r in reports if r.checked_at is not None), None)
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}"><head><meta charset="utf-8">',
        f"<title>{escape(_w('title', lang))}</title>",
        f"<style>{_font_face()}{_CSS}</style></head><body>",
        f"<h1>{escape(_w('title', lang))}</h1>",
        f'<p class="meta">{escape(_w("generated", lang, time=now, version=__version__))}</p>',
    ]
    if judged is not None:
        parts.append(f'<p class="meta">{escape(_w("judged", lang, time=judged.isoformat(timespec="seconds")))}</p>')
    anchor_text = "; ".join(anchors) if anchors else _w("no_anchors", lang)
    parts.append(f'<p class="meta">{escape(_w("anchors", lang))}: {escape(anchor_text)}</p>')
    if len(reports) > 1:
        parts.append(f"<h3>{escape(_w('files', lang))}</h3><table>")
        for r in reports:
            parts.append(f"<tr><td>{escape(r.file)}</td><td>{_badge(r.indication, lang)}</td></tr>")
        parts.append("</table>")
    for r in reports:
        parts.append(_file_section(r, lang))
    parts.append(_legend(lang))
    parts.append("</body></html>")
    return "\n".join(parts)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("edoc")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "?"


def _badge(indication: Indication, lang: str) -> str:
    value = indication.value
    return f'<span class="badge {value}">{value} · {escape(_w(value, lang))}</span>'


def _file_section(r: VerificationReport, lang: str) -> str:
    out = [f'<section class="file"><h2>{escape(_w("file", lang))}: {escape(r.file)}</h2>']
    out.append(f"<p>{escape(_w('verdict', lang))}: {_badge(r.indication, lang)}</p>")
    rows = []
    if r.sha256:
        rows.append((_w("sha256", lang), f"<code>{escape(r.sha256)}</code>"))
    if r.size is not None:
        rows.append((_w("size", lang), escape(_w("bytes", lang, n=f"{r.size:,}"))))
    if r.pages is not None:
        rows.append((_w("pages", lang), str(r.pages)))
    if rows:
        out.append("<table>" + "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in rows) + "</table>")
    if r.reasons:
        out.append("<ul>" + "".join(f"<li>{escape(x.text(lang))}</li>" for x in r.reasons) + "</ul>")
    for i, s in enumerate(r.signatures, 1):
        out.append(_signature_section(i, s, lang))
    out.append("</section>")
    return "\n".join(out)


def _mark(ok: bool, lang: str) -> str:
    return (
        f'<span class="ok">✓ {escape(_w("yes", lang))}</span>'
        if ok
        else f'<span class="bad">✗ {escape(_w("no", lang))}</span>'
    )


def _signature_section(i: int, s: SignatureReport, lang: str) -> str:
    kind = _w("signature", lang) if s.kind.value == "signature" else _w("timestamp_kind", lang)
    dash = _w("none", lang)

    def time_text(value: datetime | None) -> str:
        return escape(value.isoformat(timespec="seconds")) if value is not None else dash

    rows = [
        (_w("field", lang), escape(s.field)),
        (_w("signer", lang), escape(s.signer.name or dash)),
        (_w("organisation", lang), escape(s.signer.organisation or dash)),
        (_w("serial", lang), escape(s.signer.serial or dash)),
        (_w("issuer", lang), escape(s.signer.issuer or dash)),
        (_w("signing_time", lang), time_text(s.signing_time)),
        (_w("timestamp", lang), time_text(s.timestamp)),
        (_w("level", lang), escape(s.level.value)),
        (_w("chain", lang), "<br>".join(escape(c) for c in s.chain) or dash),
        (_w("intact", lang), _mark(s.intact, lang)),
        (_w("trusted", lang), _mark(s.trusted, lang)),
        (_w("revocation", lang), escape(s.revocation.value)),
        (_w("coverage", lang), escape(s.coverage.value)),
        (_w("changes", lang), escape(s.modifications_after.value)),
        (_w("visual", lang), _mark(not s.visual_change_after, lang)),
        (
            _w("verdict", lang),
            _badge(s.indication, lang) + (f" <code>{escape(s.subindication)}</code>" if s.subindication else ""),
        ),
    ]
    out = [f'<div class="sig"><h3>{i}. {escape(kind)}: {escape(s.field)}</h3><table>']
    out.extend(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in rows)
    out.append("</table>")
    out.append(f"<p><b>{escape(_w('reasons', lang))}</b></p><ul>")
    out.extend(f"<li>{escape(x.text(lang))}</li>" for x in s.reasons)
    out.append("</ul>")
    for change in s.page_changes:
        label = {
            ChangeKind.UNEXPLAINED: _w("change_unexplained", lang),
            ChangeKind.DECLARED: _w("change_declared", lang),
            ChangeKind.PAGES: _w("change_pages", lang),
        }[change.kind]
        if change.before_png is None and change.after_png is None:
            continue
        out.append('<div class="pages">')
        for png, key in ((change.before_png, "before"), (change.after_png, "after")):
            if png is None:
                continue
            data = base64.b64encode(png).decode("ascii")
            caption = f"{_w(key, lang, page=change.page)} — {label}"
            out.append(
                f'<figure><img alt="{escape(caption)}" src="data:image/png;base64,{data}">'
                f"<figcaption>{escape(caption)}</figcaption></figure>"
            )
        out.append("</div>")
    out.append("</div>")
    return "\n".join(out)


def _legend(lang: str) -> str:
    items = "".join(
        f"<li>{escape(_w(k, lang))}</li>" for k in ("legend_passed", "legend_failed", "legend_indeterminate")
    )
    return f'<div class="legend"><b>{escape(_w("legend", lang))}</b><ul>{items}</ul></div>'
