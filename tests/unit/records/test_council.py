"""Whose child it is: the home authority of a child placed here from elsewhere, one
row per rule, with its DOMAIN.md source in the id."""

from __future__ import annotations

from datetime import date

import pytest

from events.contracts.children import ChildRecorded
from events.contracts.missing import Placement, PlacementType
from services.records.council import home_authority

KENT = "886"  # this council, as the demo sets it
CAMDEN = "202"


def reported(placing_authority: str) -> Placement:
    return Placement(
        placing_authority=placing_authority, placement_type=PlacementType.foster_care
    )


def record(placing_authority: str) -> ChildRecorded:
    return ChildRecorded(
        la_child_id="C1", given_name="A", family_name="B",
        date_of_birth=date(2011, 1, 1), looked_after=True, uasc=False,
        placing_authority=placing_authority, ola=placing_authority != KENT,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("placement", "child", "expected"),
    [
        pytest.param(reported(CAMDEN), None, CAMDEN,
            id="unknown to the records, placed by another council: OLA "
               "(DOMAIN 1.6, 9.18)"),
        pytest.param(reported(KENT), None, None,
            id="unknown to the records, placed by this council: ours"),
        pytest.param(reported(KENT), record(CAMDEN), CAMDEN,
            id="the records say another council placed the child (DOMAIN 1.6)"),
        pytest.param(reported(CAMDEN), record(KENT), None,
            id="the records know the child as this council's own"),
    ],
)  # fmt: skip
def test_the_home_authority(placement, child, expected):
    assert home_authority(KENT, placement, child) == expected
