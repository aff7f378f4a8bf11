"""A send killed between any two of its steps leaves every recipient fully delivered or not at
all, and running the same send again completes it without duplicates.

The process is a real ``edoc doc send`` ended by ``os._exit`` at a fault-injection point
(``EDOC_FAULT``), as a power cut would end it: nothing is rolled back by hand, nothing flushed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from edoc.office import Office
from tests.conftest import run_cli
from tests.fixtures_pki import PASSPHRASE
from tests.fixtures_send import DIST, PROV, SIKHIU, make_home, open_home, signed_letter


def _send(home: Path, db_url: str | None, doc: int, fault: str | None = None) -> int:
    pp = home / "pp.toml"
    pp.write_text(f'[passphrases]\ndefault = "{PASSPHRASE}"\n', encoding="utf-8")
    env = {"EDOC_FAULT": fault} if fault else {}
    args = ["--passphrase-file", str(pp), *(["--db", db_url] if db_url else [])]
    r = run_cli(
        *args, "doc", "send", str(doc), "--to", f"{DIST},{PROV},{SIKHIU}", "--as", "pc.clerk", home=home, env=env
    )
    if fault is None:
        assert r.returncode == 0, r.stderr
    return r.returncode


def _copies(office: Office, doc: int) -> list[int]:
    def read(session: object) -> list[int]:
        from sqlmodel import col, select

        from edoc.storage.tables import DocumentRow

        return list(session.exec(select(DocumentRow.id).where(col(DocumentRow.parent_id) == doc)))  # type: ignore[attr-defined]

    return office._read(read)


def _per_transaction(home: Path, n: int) -> None:
    import tomllib

    import tomli_w

    path = home / "edoc.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    data.setdefault("routing", {})["deliveries_per_transaction"] = n
    path.write_text(tomli_w.dumps(data), encoding="utf-8")


@pytest.mark.parametrize(
    ("fault", "per_transaction", "delivered"),
    [
        ("send:accepted", 100, 0),
        ("send:in-delivery", 100, 0),  # killed inside the first transaction: none delivered
        ("send:delivered:2", 1, 2),
        ("send:delivered:1", 2, 2),  # two recipients to a transaction: both or neither
    ],
)
def test_a_send_killed_midway_is_whole_per_recipient_and_resumes(
    home: Path, db_url: str | None, fault: str, per_transaction: int, delivered: int
) -> None:
    make_home(home, db_url)
    _per_transaction(home, per_transaction)
    with open_home(home, db_url) as office:
        doc = signed_letter(office)
    assert _send(home, db_url, doc, fault) == 86  # killed at the fault point
    with open_home(home, db_url) as office:
        status = office.document_status(doc, as_user="pc.clerk")
        states = [r.state.value for r in status.recipients]
        assert sorted(states) == sorted(["delivered"] * delivered + ["accepted"] * (3 - delivered))
        for r in status.recipients:  # each recipient fully delivered (copy + evidence) or not at all
            if r.state.value == "delivered":
                assert r.copy_id is not None and len(r.evidence) == 2
            else:
                assert r.copy_id is None and len(r.evidence) == 1
        assert len(_copies(office, doc)) == delivered
        assert sum(len(office.inbox(as_user=u)) for u in ("d.clerk", "p.clerk", "s.clerk")) == delivered
    _send(home, db_url, doc)  # the same send again: completes the rest
    with open_home(home, db_url) as office:
        status = office.document_status(doc, as_user="pc.clerk")
        assert [r.state.value for r in status.recipients] == ["delivered"] * 3
        assert len({r.consignment for r in status.recipients}) == 3
        assert len(_copies(office, doc)) == 3
        for r in status.recipients:
            assert [e.evidence.seq for e in r.evidence] == [0, 1]
        for user in ("d.clerk", "p.clerk", "s.clerk"):
            assert len(office.inbox(as_user=user)) == 1
    # and once complete, a further send to them is a refused duplicate (exit 5)
    assert _send(home, db_url, doc, "none") == 5
