"""The event store's interface: what a commit is, and the errors it can raise."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy import Table
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Executable

from events.envelope import Envelope, NewEvent

ANY_VERSION = None
"""Pass as ``expected_version`` to append whatever the stream's version is."""


class ConcurrencyError(Exception):
    """The stream moved on since the caller read it: re-read, decide again."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"stream {stream_id} is at version {actual}, expected {expected}"
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True, slots=True)
class Append:
    """Events for one stream. ``expected_version`` 0 means the stream must be new."""

    stream_id: str
    events: Sequence[NewEvent]
    expected_version: int | None = ANY_VERSION


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """How far a subscriber got in one partition: ``store``, or ``topic:partition``."""

    subscriber: str
    partition: str
    position: int


@dataclass(frozen=True, slots=True)
class Parking:
    """A message that kept failing, set aside so the rest can flow."""

    subscriber: str
    envelope: Envelope
    partition: str
    position: int
    attempts: int
    error: str


@dataclass(frozen=True, slots=True)
class Commit:
    """One atomic unit: appends, and the bookkeeping that must land with them."""

    appends: Sequence[Append] = ()
    checkpoint: Checkpoint | None = None
    park: Parking | None = None
    resolve_parked: int | None = None
    trace_context: str | None = None
    """The caller's span, taken as the commit is queued (``GroupWriter.commit``)."""


@dataclass(frozen=True, slots=True)
class Recorded:
    """What a commit wrote: each append's stream version after it, and its positions."""

    versions: dict[str, int] = field(default_factory=dict)
    positions: list[int] = field(default_factory=list)
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class Page:
    """What a page of the log holds for one reader: the envelopes it asked for, how
    many events the page read in all, and the position of the last one."""

    envelopes: list[Envelope]
    read: int
    last: int


@dataclass(frozen=True, slots=True)
class ParkedMessage:
    id: int
    subscriber: str
    event_id: UUID
    event_type: str
    partition: str
    position: int
    attempts: int
    error: str
    status: str


class Projector(Protocol):
    """Keeps read-model tables in step with the log, inside the append transaction,
    so a read model is never behind what was acknowledged, and can be rebuilt."""

    tables: Sequence[Table]

    def apply(self, conn: Connection, envelopes: Sequence[Envelope]) -> None: ...


class Reads(Protocol):
    """Reads of one statement, outside any transaction (the store is one)."""

    async def select(
        self, query: Executable, params: Mapping[str, Any] | None = None
    ) -> Sequence[Any]: ...
