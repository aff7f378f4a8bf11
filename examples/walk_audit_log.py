"""Walk an office's audit log, verify it whole, and prove one event with the independent checker.

    python examples/walk_audit_log.py HOME [--db URL]

Prints every event (sequence number, time, actor, act, document, whether the actor signed it),
then checks the whole log (``Office.verify_audit_log``: hashes, tree, checkpoints, signatures),
and proves that the newest event is in the newest signed checkpoint (``Office.audit_proof``),
checking the proof with ``edoc.audit.check`` (hashlib only, no office). Exits 1 if anything
fails. Run by tests/test_examples.py on the home examples/sign_letter.py made.
"""

from __future__ import annotations

import sys
from pathlib import Path

import edoc
from edoc.audit import check


def main(home: Path, db_url: str | None = None) -> int:
    with edoc.open_office(home, db_url) as office:
        events = office.audit_events()
        for e in events:
            doc = f" doc {e.document_id}" if e.document_id is not None else ""
            signed = " signed" if e.signature else ""
            print(f"{e.seq:>5}  {e.at:%Y-%m-%d %H:%M:%S}  {e.actor:<12} {e.act}{doc}{signed}")
        report = office.verify_audit_log()
        verdict = "intact" if report.ok else "FAILED"
        print(f"log: {report.events} events, {report.signatures} actor signatures: {verdict}")
        for problem in report.problems:
            print(f"  - {problem.message()}")
        if not events:
            return 0 if report.ok else 1
        last = events[-1].seq
        proof = office.audit_proof(last)
        ok = check.verify_inclusion(check.hash_leaf(proof.leaf), last, proof.size, list(proof.path), proof.root)
        where = f"checkpoint of {proof.size} events" if proof.checkpoint is not None else "the current tree"
        print(f"event {last} is in {where}: {len(proof.path)} hashes, checked independently: {ok}")
        return 0 if report.ok and ok else 1


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    url = sys.argv[sys.argv.index("--db") + 1] if "--db" in sys.argv else None
    sys.exit(main(Path(sys.argv[1]), url))
