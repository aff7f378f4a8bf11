"""The EU DSS corpus: every file gets the verdict its manifest expects, in time, without a crash.

The corpus lives next to the repository (``../shared/corpus/dss``; ``EDOC_DSS_CORPUS`` may
point elsewhere). Its ``manifest.json`` says, for each of 46 real files, what the DSS
validator concludes: ``not-valid`` (attacks and broken files must not be reported as carrying
only intact, unmodified signatures), ``intact`` (clean files must not raise false alarms) or
``no-crash`` (any clean verdict). The files are verified the way ``edoc verify`` does it: in
worker processes. "Within 10 s each" is checked on the processor time each file took in its
worker (wall time on a shared, loaded machine says more about the neighbours than about the
verifier); a wall-clock deadline of a minute stops a file that hangs, which then fails this
test with a "timeout" reason instead of hanging the suite.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from edoc.signing.verify import Coverage, Indication, Modifications, VerificationReport, verify_files

ROOT = Path(__file__).resolve().parents[1]
CPU_LIMIT = 10.0
"""Processor seconds one file may take (the issue's "within 10 s each")."""
DEADLINE = 60.0
"""Wall-clock seconds before a worker is killed (the hang guard)."""


def _candidates() -> list[Path]:
    """``../shared/corpus/dss`` from the repository root; from a git worktree, also from the
    main checkout it belongs to (its ``.git`` file names it)."""
    explicit = os.environ.get("EDOC_DSS_CORPUS")
    if explicit:
        return [Path(explicit)]
    out = [ROOT.parent / "shared" / "corpus" / "dss"]
    git = ROOT / ".git"
    if git.is_file():
        text = git.read_text().strip()
        if text.startswith("gitdir:"):
            gitdir = Path(text.split(":", 1)[1].strip())  # <main>/.git/worktrees/<name>
            out.append(gitdir.parents[2].parent / "shared" / "corpus" / "dss")
    return out


def _find() -> Path | None:
    return next((p for p in _candidates() if (p / "manifest.json").is_file()), None)


def corpus_dir() -> Path:
    """The corpus, next to the repository; missing is a failure, never a silent skip."""
    path = _find()
    if path is None:
        pytest.fail(
            f"the DSS corpus is missing: looked for manifest.json in {', '.join(map(str, _candidates()))} "
            "(set EDOC_DSS_CORPUS to its location)",
            pytrace=False,
        )
    return path


def _manifest() -> list[dict[str, Any]]:
    path = _find()
    if path is None:
        return [{"file": "<corpus missing>", "expect": "no-crash", "category": "missing", "signatures": 0}]
    return list(json.loads((path / "manifest.json").read_text()))


MANIFEST = _manifest()

# AD-RB.pdf: the manifest calls it "intact", but DSS's own test (ASN1PolicyTest) asserts only
# the *first* signature and overrides checkBLevelValid for that reason: the second signature's
# signed attributes are not in DER order, exactly like the dss-818 plugtest files the same
# manifest expects to fail. A strict verifier (DSS re-encodes in DER) cannot verify it.
# We hold the strict line and check precisely that: the first signature intact, the second
# failing for that reason and no other.
KNOWN_DEVIATIONS = {"AD-RB.pdf"}


@pytest.fixture(scope="module")
def reports() -> dict[str, VerificationReport]:
    base = corpus_dir() / "files"
    names = [e["file"] for e in MANIFEST]
    out: dict[str, VerificationReport] = {}
    for index, report in verify_files([base / n for n in names], timeout=DEADLINE):
        out[names[index]] = report
    return out


def _broken(report: VerificationReport) -> bool:
    """True if the report does *not* claim that every signature is intact and unmodified."""
    if not report.signatures:
        return True
    return not all(
        s.intact
        and s.indication is not Indication.TOTAL_FAILED
        and s.coverage is not Coverage.PARTIAL
        and s.modifications_after in (Modifications.NONE, Modifications.SIGNATURES)
        and not s.visual_change_after
        for s in report.signatures
    )


@pytest.mark.parametrize("entry", MANIFEST, ids=[e["file"] for e in MANIFEST])
def test_dss_corpus_verdict(entry: dict[str, Any], reports: dict[str, VerificationReport]) -> None:
    report = reports[entry["file"]]
    codes = [r.code for r in report.reasons]
    # clean: a verdict, not an exception; in time
    assert "internal_error" not in codes, report.reasons
    assert "crashed" not in codes, report.reasons
    assert "timeout" not in codes, f"{entry['file']} did not finish in {DEADLINE} s"
    assert report.cpu_seconds < CPU_LIMIT, f"{entry['file']} took {report.cpu_seconds:.1f} s of processor time"
    assert report.indication in set(Indication)
    json.dumps(report.to_json("th"), ensure_ascii=False)  # the contract's JSON can always be written
    expect = entry["expect"]
    if expect == "not-valid":
        assert report.indication is not Indication.TOTAL_PASSED
        assert _broken(report), [s.to_json() for s in report.signatures]
    elif expect == "intact" and entry["file"] in KNOWN_DEVIATIONS:
        first, second = report.signatures
        assert first.intact and first.indication is not Indication.TOTAL_FAILED
        assert first.modifications_after in (Modifications.NONE, Modifications.SIGNATURES)
        assert second.subindication == "HASH_FAILURE"
        assert [r.code for r in second.reasons if r.code == "signed_attrs_not_der"] == ["signed_attrs_not_der"]
    elif expect == "intact":
        assert report.indication is not Indication.TOTAL_FAILED
        assert len(report.signatures) == entry["signatures"]
        for s in report.signatures:
            assert s.intact, s.to_json()
            assert s.coverage is not Coverage.PARTIAL, s.to_json()
            assert s.modifications_after is not Modifications.OTHER, s.to_json()
            assert s.indication is not Indication.TOTAL_FAILED, s.to_json()
            if s.visual_change_after:  # only permitted, declared changes (comments, form fields)
                assert s.modifications_after in (Modifications.ANNOTATIONS, Modifications.FORM_FILLING)
                assert all(c.kind.value == "declared" for c in s.page_changes)
    else:
        assert expect == "no-crash", entry


def test_shadow_replace_attack_is_seen(reports: dict[str, VerificationReport]) -> None:
    """DSS's dss-2236/replace.pdf hides behind form filling: pyHanko accepts the change, the
    rendered page shows it."""
    (sig,) = reports["dss-2236_replace.pdf"].signatures
    assert sig.intact
    assert sig.modifications_after is Modifications.FORM_FILLING
    assert sig.visual_change_after
    assert [c.page for c in sig.page_changes] == [1]
    assert sig.indication is not Indication.TOTAL_PASSED
