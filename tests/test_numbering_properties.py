"""Property tests: random sequences of create, number (ordinary or circular) and cancel, against a
model. Whatever the order, each series runs 1..n without gaps or repeats, a number once issued
stays with its document (cancelled or not), and the refusals are the specific ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edoc.errors import AlreadyNumbered, InvalidState, NotNumberable
from edoc.office import Office, init_office, open_office
from edoc.registers import Book
from edoc.storage import registers as reg_store
from tests.fixtures_registers import LETTER, build_directory

OPS = st.lists(
    st.one_of(
        st.tuples(st.just("create"), st.just(0)),
        st.tuples(st.sampled_from(["number", "circular", "cancel"]), st.integers(0, 9)),
    ),
    min_size=1,
    max_size=25,
)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Office:
    home: Path = tmp_path_factory.mktemp("props") / "home"
    init_office(home)
    office = open_office(home)
    build_directory(office)
    return office


_RUN = [0]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_random_create_number_cancel(shared: Office, ops: list[tuple[str, int]]) -> None:
    office = shared
    _RUN[0] += 1
    code = f"P{_RUN[0]}"
    office.add_agency(code, name=f"หน่วยงานทดสอบ {_RUN[0]}", letter_code=f"นม {70000 + _RUN[0]}")
    office.add_user(f"c{_RUN[0]}", agency=code, full_name="นางสาวทดสอบ ระบบ", position="ธุรการ", role="clerk")
    office.add_user(f"x{_RUN[0]}", agency=code, full_name="นายก ทดสอบ", position="นายก", role="executive")
    clerk, signer = f"c{_RUN[0]}", f"x{_RUN[0]}"
    docs: list[int] = []
    numbers: dict[int, str] = {}
    cancelled: set[int] = set()
    issued = {"out": 0, "circular": 0}
    for op, i in ops:
        if op == "create":
            docs.append(office.new_document("external", {**LETTER, "signer": signer}, as_user=clerk))
            continue
        if not docs:
            continue
        doc = docs[i % len(docs)]
        if op == "cancel":
            if doc in cancelled:
                with pytest.raises(InvalidState):
                    office.cancel_document(doc, as_user=clerk, reason="ซ้ำ")
            else:
                office.cancel_document(doc, as_user=clerk, reason="ซ้ำ")
                cancelled.add(doc)
            continue
        circular = op == "circular"
        if doc in numbers:
            with pytest.raises(AlreadyNumbered):
                office.number_document(doc, as_user=clerk, circular=circular)
        elif doc in cancelled:
            with pytest.raises((InvalidState, NotNumberable)):
                office.number_document(doc, as_user=clerk, circular=circular)
        else:
            got = office.number_document(doc, as_user=clerk, circular=circular)
            key = "circular" if circular else "out"
            issued[key] += 1
            assert got.seq == issued[key]
            numbers[doc] = got.text

    def read(session):  # type: ignore[no-untyped-def]
        return {d: reg_store.entries_of(session, d, Book.SENT.value) for d in docs}

    entries = office._read(read)
    by_series: dict[str, list[int]] = {}
    for doc in docs:
        rows = entries[doc]
        if doc in numbers:
            assert len(rows) == 1 and rows[0].document_number == numbers[doc]
            assert rows[0].cancelled == (doc in cancelled)
            by_series.setdefault(rows[0].series, []).append(rows[0].seq)
        else:
            assert rows == []
    for seqs in by_series.values():
        assert sorted(seqs) == list(range(1, len(seqs) + 1))
    assert sum(len(v) for v in by_series.values()) == len(numbers)
