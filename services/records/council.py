"""Whose child a reported child is: the home (placing) authority of a child placed
in this council's area by another council (an "OLA child"). Pure.

The home authority keeps statutory responsibility for its child wherever it is placed
and is advised of every episode (DOMAIN.md 1.6, rule 18; the source document, 2.3), so
whether a child is placed from elsewhere cannot hang on this council's records knowing
the child: for a child they do not know, the police report's placing authority counts.
"""

from __future__ import annotations

from events.contracts.children import ChildRecorded
from events.contracts.missing import Placement


def home_authority(
    council: str, reported: Placement, record: ChildRecorded | None
) -> str | None:
    """The DfE code of the child's placing authority when that is another council;
    None for this council's own child. The children's records, when they know the
    child, are this council's word on its placement; else the police report is."""
    placing = record.placing_authority if record else reported.placing_authority
    return None if placing == council else placing
