"""What one service shows on another's page, as plain data, and the words every
page uses alike, pure: how an actor reads on a page (``who``), a role, a channel,
a moment in UK time. The readers that return these are typed in plugins.py."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from events.calendar import LONDON
from events.history import ACTOR_PREFIX as HISTORY_PREFIX


@dataclass(frozen=True)
class TimelineEntry:
    """One event of an episode, in words. ``actor`` as the event records it (the
    page says who that is); ``detail``: least data, roles and channels, never a
    contact address; ``position``: the store's, the order it was recorded in."""

    at: datetime
    what: str
    actor: str
    position: int
    detail: str = ""


@dataclass(frozen=True)
class OpenAlert:
    """An alert still open: told, and nobody has acknowledged it yet. No contact."""

    alert_id: UUID
    episode_id: UUID
    role: str
    raised_at: datetime


def in_order(entries: Iterable[TimelineEntry]) -> list[TimelineEntry]:
    """By when each happened; what was recorded first first, at the same moment."""
    return sorted(entries, key=lambda e: (e.at, e.position))


def who(actor: str, people: Mapping[UUID, str]) -> str:
    """Who or what caused an event, for a page: a person by name (from
    ``people``), an API client by its name, an import as such; Lantern's own
    workers as Lantern."""
    kind, _, rest = actor.partition(":")
    if kind == "person":
        try:
            return people.get(UUID(rest), "A former member of staff")
        except ValueError:
            return "A member of staff"
    if kind == "client":
        return f"{rest} (API client)"
    if actor.startswith(HISTORY_PREFIX):
        return "Imported history"
    if kind == "link":
        return "The recipient, by the link in the message"
    if actor == "notify":
        return "GOV.UK Notify"
    if kind == "cli":
        return "Lantern (command line)"
    return "Lantern"


def person_ids(actors: Iterable[str]) -> set[UUID]:
    """The people among ``actors``, to look their names up."""
    found = set()
    for actor in actors:
        kind, _, rest = actor.partition(":")
        if kind == "person":
            try:
                found.add(UUID(rest))
            except ValueError:
                continue
    return found


def words(code: str) -> str:
    """``social_worker`` → ``social worker``."""
    return code.replace("_", " ")


CHANNELS = {"email": "e-mail", "sms": "text message", "webhook": "webhook"}


def channel_words(channels: Iterable[str]) -> str:
    """``["email", "sms"]`` → ``e-mail, then text message``."""
    return ", then ".join(CHANNELS.get(c, c) for c in channels)


def when(at: datetime) -> str:
    """A moment as staff read it, in Europe/London: ``Thu 3 Dec 2026, 16:30``."""
    local = at.astimezone(LONDON)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M}"


def age(born: date, on: date) -> int:
    """Whole years, birthdays counted: 15 on the day before the 16th birthday."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def day(at: datetime) -> str:
    local = at.astimezone(LONDON)
    return f"{local:%a} {local.day} {local:%b %Y}"


ROLES = {
    "social_worker": "social worker",
    "team": "child's team",
    "out_of_hours": "out-of-hours team",
    "duty_team": "duty team",
    "team_manager": "team manager",
    "mcet": "police exploitation team (MCET)",
    "home_authority": "child's home authority",
}


def role_words(role: str) -> str:
    """Whom an alert told, as staff say it: ``mcet`` → ``police exploitation team
    (MCET)``."""
    return ROLES.get(role, words(role))
