"""Build a small directory through the Python API and print it.

    python examples/build_directory.py [HOME]

Creates (or reuses) an office home, adds the province, the district and Pak Chong
municipality with one unit and two people, then lists them. Run by tests/test_examples.py.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import edoc


def main(home: Path) -> None:
    edoc.init_office(home, name="example office")
    with edoc.open_office(home) as office:
        if not office.list_agencies():
            office.add_agency("NMA-PROV", name="จังหวัดนครราชสีมา", letter_code="นม 0017")
            office.add_agency("PAKCHONG-DIST", name="อำเภอปากช่อง", letter_code="นม 0318", parent="NMA-PROV")
            office.add_agency(
                "PAKCHONG",
                name="เทศบาลเมืองปากช่อง",
                letter_code="นม 52101",
                parent="PAKCHONG-DIST",
                address="ถนนเทศบาล ๑ ตำบลปากช่อง อำเภอปากช่อง จังหวัดนครราชสีมา 30130",
            )
            office.add_unit("PAKCHONG", "OFFICE", name="สำนักปลัดเทศบาล")
            office.add_user(
                "pc.clerk",
                agency="PAKCHONG",
                unit="OFFICE",
                role="clerk",
                full_name="นางสุภาพร บุญมา",
                position="เจ้าพนักงานธุรการชำนาญงาน",
            )
            office.add_user(
                "pc.mayor",
                agency="PAKCHONG",
                role="executive",
                full_name="นายสมศักดิ์ ประเสริฐวงศ์",
                position="นายกเทศมนตรีเมืองปากช่อง",
            )
        for agency in office.list_agencies():
            print(f"{agency.code:15} {agency.letter_code:10} {agency.name}")
        for user in office.list_users("PAKCHONG"):
            print(f"{user.username:15} {user.role.value:10} {user.full_name} ({user.position})")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(Path(tmp) / "home")
