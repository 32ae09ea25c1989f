"""Crew members and their certificates in a supply file, with row-named errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from data.errors import DataError
from data.load import load_supply
from data.schemas import CertificateType, HolderKind

SUPPLY = """
suppliers:
- {supplier_id: sup-a, name: 绿叶}
crew:
- {crew_id: crew-1, supplier_id: sup-a, name: 李四, test_taken_at: "2022-04-14T20:00"}
certificates:
- {certificate_id: w1, type: work_id, holder_kind: crew, holder_id: crew-1,
   valid_from: "2022-04-01T00:00+08:00", valid_until: "2022-12-31T00:00+08:00"}
"""


def test_crew_and_work_ids_load(tmp_path: Path) -> None:
    path = tmp_path / "supply.yaml"
    path.write_text(SUPPLY, encoding="utf-8")
    bundle = load_supply(path)
    assert [c.crew_id for c in bundle.crew] == ["crew-1"]
    assert bundle.crew[0].test_valid_until is not None
    work_id = bundle.certificates[0]
    assert (work_id.type, work_id.holder_kind) == (CertificateType.work_id, HolderKind.crew)


def test_crew_errors_name_the_row(tmp_path: Path) -> None:
    path = tmp_path / "supply.yaml"
    bad = SUPPLY.replace("supplier_id: sup-a, name: 李四", "supplier_id: sup-x, name: 李四")
    bad = bad.replace("holder_id: crew-1", "holder_id: crew-9")
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(DataError) as error:
        load_supply(path)
    found = {(i.file.rsplit(" ", 1)[-1], i.row, i.field) for i in error.value.issues}
    assert ("[crew]", 1, "supplier_id") in found
    assert ("[certificates]", 1, "holder_id") in found
