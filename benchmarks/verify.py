"""Verification speed: edoc's verdict beside bare pyHanko on the same signed letters, the visual
check per page, and ``edoc verify`` over many files on 1 and 2 worker processes.

The letters are made the way the pilot makes them: an external letter drafted by an officer,
initialled by a head and signed by the mayor, every signature PAdES B-LT (signature time-stamp,
chain and OCSP/CRL embedded) through the office with its own CA, TSA and OCSP responder
(P-384 root, P-256 signers). They are then verified with nothing but the file and the root, as
an auditor would, offline:

(a) ``edoc.verify_pdf(path, trust=[root], visual=False, isolate=False)``: every check except
    the rendering (byte ranges on the raw bytes, the CMS container, ETSI AdES long-term
    validation of every signature with revocation required, DocMDP/FieldMDP and difference
    analysis, levels), in this process;
(b) the peer, in the same process on the same files: bare pyHanko as installed (edoc's
    speed-ups to pyHanko and asn1crypto, :mod:`edoc.signing.verify.speedups`, are taken out
    while it runs; a second row gives the same peer with them), for each signature
    ``validate_pdf_signature`` with a ``ValidationContext`` holding the same root, the file's
    DSS (certificates, OCSPs, CRLs), no fetching and hard-fail revocation: what a developer
    would write to check a B-LT letter with pyHanko;
(c) ``edoc.verify_pdf`` with the visual check: the processor time of that stage (rendering
    every page as each signature signed it and as it is now, comparing) per page of the letter;
(d) ``edoc verify --json`` (the real command, a new process) over many files with ``--jobs 1``
    and ``--jobs 2``; the two outputs must be identical.

(a) and (b) alternate letter by letter so load on a shared machine hits both alike, and are
measured in processor time of this process (``time.process_time``), which other processes'
load does not inflate; wall times are in the notes.

    python -m benchmarks.verify [--letters N] [--rounds N] [--files N] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks.common import Result, print_table, to_json

PASSPHRASE = "benchmark only"

LETTER = {
    "subject": "ขอความอนุเคราะห์ข้อมูลประกอบการจัดทำแผนพัฒนาท้องถิ่น",
    "to": "นายอำเภอปากช่อง",
    "body": [
        "ด้วยเทศบาลเมืองปากช่องอยู่ระหว่างจัดทำแผนพัฒนาท้องถิ่น พ.ศ. ๒๕๗๐ - ๒๕๗๔ "
        "จึงขอความอนุเคราะห์ข้อมูลประชากร โครงสร้างพื้นฐาน และแหล่งน้ำในเขตอำเภอปากช่อง " * 3,
        "จึงเรียนมาเพื่อโปรดพิจารณาให้ความอนุเคราะห์ด้วย จะขอบคุณยิ่ง",
    ],
    "signer": "pc.mayor",
    "initials": ["pc.head"],
}
"""Drafted by pc.officer, initialled by pc.head, signed by pc.mayor."""

STEPS = (("pc.officer", "B-LT"), ("pc.head", "B-LT"), ("pc.mayor", "B-LT"))
"""Who signs each letter, in order (drafter's approval, initial, executive's signature)."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_letters(folder: Path, count: int) -> tuple[list[Path], Path]:
    """``count`` signed letters (three B-LT signatures each) in ``folder``, and the root as PEM."""
    import tomllib

    import tomli_w
    from cryptography.hazmat.primitives.serialization import Encoding

    from edoc.office import init_office, open_office
    from edoc.pki.keys import StaticPassphrases

    home = folder / "home"
    init_office(home, None, name="benchmark")
    config = home / "edoc.toml"
    data = tomllib.loads(config.read_text(encoding="utf-8"))
    data.setdefault("pki", {}).update({"kdf_rounds": 10_000, "base_url": f"http://127.0.0.1:{_free_port()}"})
    config.write_text(tomli_w.dumps(data), encoding="utf-8")
    letters = folder / "letters"
    letters.mkdir()
    with open_office(home, None, passphrases=StaticPassphrases(default=PASSPHRASE)) as office:
        office.add_agency("PAKCHONG", name="เทศบาลเมืองปากช่อง", letter_code="นม 52101")
        for user, name, position, role in (
            ("pc.mayor", "นายสมศักดิ์ ประเสริฐวงศ์", "นายกเทศมนตรีเมืองปากช่อง", "executive"),
            ("pc.head", "นางสาวเกศินี แก้วมณี", "ปลัดเทศบาลเมืองปากช่อง", "head"),
            ("pc.officer", "นางสาวอรุณี ใจงาม", "นักจัดการงานทั่วไป", "officer"),
        ):
            office.add_user(user, agency="PAKCHONG", full_name=name, position=position, role=role)
        office.pki_init("p384")
        for user, _level in STEPS:
            office.issue_certificate(user, key="p256")
        ids = [office.new_document("external", dict(LETTER), as_user="pc.officer") for _ in range(count)]
        with office.pki_server():  # the TSA, OCSP and CRLs B-LT needs
            for doc in ids:
                for user, level in STEPS:
                    office.sign_document(doc, as_user=user, level=level)
        paths = []
        for doc in ids:
            path = letters / f"letter-{doc:05d}.pdf"
            path.write_bytes(office.export_document(doc, as_user="pc.officer"))
            paths.append(path)
        root = folder / "root.pem"
        root.write_bytes(b"".join(r.public_bytes(Encoding.PEM) for r in office.trust_roots()))
    return paths, root


# -- the peer: bare pyHanko ---------------------------------------------------------------------------


def bare_pyhanko(path: Path, anchors: list[Any]) -> list[bool]:
    """Every signature of ``path`` with pyHanko's ``validate_pdf_signature``, offline, from the DSS."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    with open(path, "rb") as fh:
        reader = PdfFileReader(fh)
        dss = DocumentSecurityStore.read_dss(reader)
        verdicts = []
        for sig in reader.embedded_signatures:
            context = dss.as_validation_context(
                {"trust_roots": anchors, "allow_fetching": False, "revocation_mode": "hard-fail"}
            )
            status = validate_pdf_signature(sig, context)
            verdicts.append(bool(status.bottom_line))
    return verdicts


@contextlib.contextmanager
def pristine_pyhanko() -> Iterator[None]:
    """pyHanko and asn1crypto as installed: edoc's speed-ups taken out for the peer's turn."""
    from edoc.signing.verify import speedups

    with speedups.removed():
        yield


@contextlib.contextmanager
def visual_stage_timer(sink: list[float]) -> Iterator[None]:
    """Processor seconds of every visual check (the engine's rendering and comparing stage) into
    ``sink``: the check measured on its own, not as the difference of two noisy totals."""
    from edoc.signing.verify import engine

    original = engine._Analysis._visual

    def timed(self: Any, entries: Any) -> None:
        started = time.process_time()
        try:
            original(self, entries)
        finally:
            sink.append(time.process_time() - started)

    engine._Analysis._visual = timed  # type: ignore[method-assign]
    try:
        yield
    finally:
        engine._Analysis._visual = original  # type: ignore[method-assign]


def _cpu(fn: Callable[[], object]) -> tuple[float, float]:
    """(processor seconds, wall seconds) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.process_time() - cpu, time.perf_counter() - wall


def _ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def _cli(files: list[Path], root: Path, jobs: int) -> tuple[float, str]:
    """Wall seconds and stdout of ``edoc --json verify FILES --trust ROOT --jobs N`` in a new process."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")]),
    }
    command = [
        sys.executable,
        "-m",
        "edoc",
        "--json",
        "verify",
        *map(str, files),
        "--trust",
        str(root),
        "--jobs",
        str(jobs),
    ]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=7200)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"edoc verify --jobs {jobs} exited {done.returncode}: {done.stderr[-2000:]}")
    return seconds, done.stdout


def run(letters: int = 20, rounds: int = 5, files: int = 1000) -> list[Result]:
    import logging

    from asn1crypto import pem
    from asn1crypto import x509 as asn1_x509

    from edoc.signing.verify import verify_pdf

    logging.getLogger("pyhanko").setLevel(logging.ERROR)
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="edoc-bench-verify-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        paths, root = make_letters(folder, letters)
        made = time.perf_counter() - started
        anchors = [asn1_x509.Certificate.load(der) for _t, _h, der in pem.unarmor(root.read_bytes(), multiple=True)]

        # the verdicts first: both must pass every letter, or the timing compares nothing
        report = verify_pdf(paths[0], trust=[root], isolate=False)
        if not report.passed or len(report.signatures) != len(STEPS):
            raise SystemExit(f"edoc does not pass the benchmark letter: {report.to_json()}")
        with pristine_pyhanko():
            if not all(bare_pyhanko(paths[0], anchors)):
                raise SystemExit("bare pyHanko does not pass the benchmark letter")
        pages = report.pages or 1

        edoc_cpu: list[float] = []
        edoc_wall: list[float] = []
        bare_cpu: list[float] = []
        bare_wall: list[float] = []
        helped_cpu: list[float] = []
        visual_cpu: list[float] = []
        isolated_wall: list[float] = []
        for _ in range(rounds):
            for path in paths:
                cpu, wall = _cpu(partial(verify_pdf, path, trust=[root], visual=False, isolate=False))
                edoc_cpu.append(cpu)
                edoc_wall.append(wall)
                with pristine_pyhanko():
                    cpu, wall = _cpu(partial(bare_pyhanko, path, anchors))
                bare_cpu.append(cpu)
                bare_wall.append(wall)
                cpu, _wall = _cpu(partial(bare_pyhanko, path, anchors))
                helped_cpu.append(cpu)
                with visual_stage_timer(visual_cpu):
                    verify_pdf(path, trust=[root], visual=True, isolate=False)
                started = time.perf_counter()
                verify_pdf(path, trust=[root], visual=False)  # the default: in a sandboxed worker
                isolated_wall.append(time.perf_counter() - started)
        count = f"{len(paths)} letters x {rounds} rounds, {len(STEPS)} B-LT signatures and {pages} page(s) each"
        results.append(
            Result(
                "verify a letter, no visual check (processor time)",
                _ms(edoc_cpu),
                "ms",
                "bare pyHanko validate_pdf_signature, same root, DSS, hard-fail",
                _ms(bare_cpu),
                "ratio <= 1.3",
                f"{count}; wall {_ms(edoc_wall):.0f} vs {_ms(bare_wall):.0f} ms",
            )
        )
        results.append(
            Result(
                "verify a letter, no visual check (processor time)",
                _ms(edoc_cpu),
                "ms",
                "the same bare pyHanko, given edoc's speed-ups to pyHanko and asn1crypto",
                _ms(helped_cpu),
                "",
                "what edoc's extra checks cost (AdES long-term validation, raw byte ranges, levels)",
            )
        )
        per_page = [v / pages for v in visual_cpu]
        results.append(
            Result(
                "visual check, per page (processor time)",
                _ms(per_page),
                "ms",
                "the verification without it",
                _ms(edoc_cpu),
                "< 100 ms per page",
                f"PDFium renders the page as each of the {len(STEPS)} signatures signed it and as it is now",
            )
        )
        results.append(
            Result(
                "verify_pdf as called by default (sandboxed worker, visual check)",
                _ms(isolated_wall),
                "ms",
                "in this process, no visual check (wall)",
                _ms(edoc_wall),
                "",
                "wall time: the worker's pipe round trip and the visual check",
            )
        )

        # edoc verify over many files, 1 and 2 worker processes: copies of the signed letters
        many = folder / "many"
        many.mkdir()
        batch = []
        for i in range(files):
            target = many / f"{i:05d}-{paths[i % len(paths)].name}"
            shutil.copyfile(paths[i % len(paths)], target)
            batch.append(target)
        one, out_one = _cli(batch, root, 1)
        two, out_two = _cli(batch, root, 2)
        if out_one != out_two:
            raise SystemExit("edoc verify printed different JSON with 1 and 2 workers")
        verdicts = json.loads(out_two)
        verdicts = verdicts if isinstance(verdicts, list) else [verdicts]
        if len(verdicts) != files or any(v["indication"] != "TOTAL-PASSED" for v in verdicts):
            raise SystemExit("edoc verify did not pass every copy of the letters")
        results.append(
            Result(
                f"edoc verify over {files} files, --jobs 2",
                two,
                "s",
                "the same with --jobs 1",
                one,
                "ratio <= 0.56 (1.8x faster)",
                f"{files / two:.1f} vs {files / one:.1f} files/s; speed-up {one / two:.2f}x on "
                f"{os.cpu_count()} cores; identical JSON; letters signed in {made:.0f} s",
            )
        )
    return results


SUITE_SIZES = {"tiny": (1, 1, 4), "quick": (5, 3, 100), "full": (20, 5, 1000)}
"""(letters, rounds, files) per size of ``python -m benchmarks``."""


def suite(size: str, db_url: str | None) -> list[Result]:
    """``python -m benchmarks``'s entry: the figures at ``size`` (see :mod:`benchmarks.run`)."""
    letters, rounds, files = SUITE_SIZES[size]
    return run(letters, rounds, files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--letters", type=int, default=20, help="distinct signed letters")
    parser.add_argument("--rounds", type=int, default=5, help="times each letter is verified by each side")
    parser.add_argument("--files", type=int, default=1000, help="files for edoc verify on 1 and 2 workers")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = run(args.letters, args.rounds, args.files)
    if args.json:
        print(to_json(results))
    else:
        print_table("verification (median)", results)


if __name__ == "__main__":
    main()
