"""THE routing rules: (the assessment, the child's record, the time) -> who is told,
how much each may know, on which channels, and who is told next when nobody
acknowledges. Pure.

- The allocated social worker (and team) for every episode of a child the council
  looks after; outside office hours the out-of-hours duty team as well.
- The police Missing Children Exploitation Team for the placement district when the
  level is medium or high, or any exploitation flag is present.
- The home local authority of a child placed here by another authority, for every
  episode, matched in the children's records or not: it keeps statutory
  responsibility for its child and manages the episode (DOMAIN.md 1.6, 9.18).
- The duty team for a child the directory does not know.
- A team manager when the risk is high.
- One message per address: two roles that reach the same inbox, phone or endpoint
  are told once.
- Escalation follows the episode: a high-risk episode that nobody of the child's
  care team acknowledges in time goes up the council's escalation chain, one step
  at a time, each step told once; any of them acknowledging stops it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from events.contracts.alerts import AlertContact, ChannelName
from events.contracts.children import ChildRecorded
from events.contracts.missing import RiskGrade
from services.notifier.calendar import OfficeHours


class Role(StrEnum):
    social_worker = "social_worker"
    team = "team"
    out_of_hours = "out_of_hours"
    duty_team = "duty_team"
    team_manager = "team_manager"
    mcet = "mcet"
    home_authority = "home_authority"


class Scope(StrEnum):
    """How much of the episode a recipient is given (least data to each)."""

    full = "full"  # the child's own council: name, circumstances, risk and reasons
    police = "police"  # MCET: identity, risk level and exploitation reasons
    home_authority = "home_authority"  # placing LA: as full, with its own child id


@dataclass(frozen=True)
class Contact:
    recipient_id: str
    email: str | None = None
    phone: str | None = None
    webhook_url: str | None = None


@dataclass(frozen=True)
class Directory:
    """Recipients as the council configures them (`lantern recipients`). A role with
    nobody configured is left out of routing; docs/notifier.md says what to set."""

    duty_team: Contact | None = None
    out_of_hours: Contact | None = None
    mcet_by_district: Mapping[str, Contact] = field(default_factory=dict)
    mcet_default: Contact | None = None
    la_contacts: Mapping[str, Contact] = field(default_factory=dict)
    team_managers: Mapping[str, Contact] = field(default_factory=dict)
    escalation: Sequence[Contact] = ()
    """Who an unacknowledged high-risk alert goes to next, in order."""


@dataclass(frozen=True)
class Case:
    level: RiskGrade
    exploitation: bool
    child: ChildRecorded | None
    at: datetime
    home_authority: str | None = None
    """The placing authority's code when it is another council (records/council.py)."""


@dataclass(frozen=True)
class Recipient:
    role: Role
    contact: Contact
    scope: Scope


OFFICE_HOURS = OfficeHours()


def recipients_for(
    case: Case,
    directory: Directory,
    hours: OfficeHours = OFFICE_HOURS,
    *,
    told: Iterable[Contact] = (),
) -> list[Recipient]:
    """Who is told, once each; none of those ``told`` already (the episode's alerts)
    nor anyone reached at an address they were told at."""
    out: list[tuple[Role, Contact | None, Scope]] = []
    child = case.child
    if child is None:
        out.append((Role.duty_team, directory.duty_team, Scope.full))
    else:
        out += _council(case, child, directory)
    if not hours.covers(case.at):
        out.append((Role.out_of_hours, directory.out_of_hours, Scope.full))
    if case.level in (RiskGrade.medium, RiskGrade.high) or case.exploitation:
        district = child.placement_district if child else None
        mcet = directory.mcet_by_district.get(district or "", directory.mcet_default)
        out.append((Role.mcet, mcet, Scope.police))
    if case.home_authority:
        home = directory.la_contacts.get(case.home_authority)
        out.append((Role.home_authority, home, Scope.home_authority))
    return once_each(out, told)


def _council(
    case: Case, child: ChildRecorded, d: Directory
) -> list[tuple[Role, Contact | None, Scope]]:
    """The child's own council, from the case-management record of the child."""
    out: list[tuple[Role, Contact | None, Scope]] = []
    for role, contact in (
        (Role.social_worker, child.social_worker),
        (Role.team, child.team),
    ):
        if contact is not None and (contact.email or contact.phone):
            key = child.la_child_id if role is Role.social_worker else contact.name
            recipient_id = f"{role}:{key}"
            address = Contact(recipient_id, email=contact.email, phone=contact.phone)
            out.append((role, address, Scope.full))
    if not out:  # nobody allocated: the duty team picks it up
        out.append((Role.duty_team, d.duty_team, Scope.full))
    if case.level is RiskGrade.high and child.team is not None:
        manager = d.team_managers.get(child.team.name)
        out.append((Role.team_manager, manager, Scope.full))
    return out


def once_each(
    candidates: Sequence[tuple[Role, Contact | None, Scope]], told: Iterable[Contact]
) -> list[Recipient]:
    """One message per address: the first (widest) role reaching an inbox, a phone or
    an endpoint is told there; a later role keeps only the addresses nobody before
    it has, and with none left is not told. A role the council has configured nobody
    for is left out."""
    seen = {c.recipient_id for c in told}
    reached = {a for c in told for a in _addresses(c)}
    unique = []
    for role, contact, scope in candidates:
        if contact is None or contact.recipient_id in seen:
            continue
        seen.add(contact.recipient_id)
        left = _without(contact, reached)
        if left is not None:
            reached |= _addresses(left)
            unique.append(Recipient(role, left, scope))
    return unique


POLICE_TEAMS = frozenset({Role.mcet})
"""Roles that are police teams: their alerts are the police's to read and
acknowledge, and the council's staff are not shown them (api.py)."""


def _address(kind: str, value: str | None) -> str | None:
    """An address as compared: e-mail without case, a UK mobile as +447..."""
    if not value:
        return None
    if kind == "email":
        value = value.casefold()
    elif kind == "phone":
        value = value.replace(" ", "")
        value = "+44" + value[1:] if value.startswith("07") else value
    return f"{kind}:{value}"


def _addresses(c: Contact) -> set[str]:
    found = {
        _address("email", c.email),
        _address("phone", c.phone),
        _address("webhook", c.webhook_url),
    }
    return {a for a in found if a}


def _without(c: Contact, reached: set[str]) -> Contact | None:
    """The contact less the addresses already reached; None when that was all it
    had (one with none at all is kept: the duty team is told nobody can reach it)."""

    def kept(kind: str, value: str | None) -> str | None:
        return None if _address(kind, value) in reached else value

    left = Contact(
        c.recipient_id,
        email=kept("email", c.email),
        phone=kept("phone", c.phone),
        webhook_url=kept("webhook", c.webhook_url),
    )
    return None if _addresses(c) and not _addresses(left) else left


CHANNEL_ORDER: tuple[ChannelName, ...] = ("webhook", "email", "sms")
ESCALATING = frozenset(
    {
        Role.social_worker,
        Role.team,
        Role.duty_team,
        Role.out_of_hours,
        Role.team_manager,
    }
)
"""The child's own council must act; the police team and a home authority are told."""


def channels_for(
    contact: Contact | AlertContact, configured: Collection[str]
) -> list[ChannelName]:
    """The channels to try, in order: those the contact has an address for and this
    council has set up."""
    address = {
        "webhook": contact.webhook_url,
        "email": contact.email,
        "sms": contact.phone,
    }
    return [c for c in CHANNEL_ORDER if address[c] and c in configured]


def escalate_at(
    level: RiskGrade, role: str, at: datetime, *, after: timedelta
) -> datetime | None:
    if level is RiskGrade.high and role in ESCALATING:
        return at + after
    return None


@dataclass(frozen=True)
class AlertClock:
    """One alert of an episode as escalation sees it."""

    alert_id: UUID
    role: str
    status: str
    escalate_at: datetime | None
    step: int
    """The escalation steps this alert has carried."""


@dataclass(frozen=True)
class Escalation:
    step: int
    contact: Contact
    next_at: datetime | None
    carrier: AlertClock
    """The alert that records the step: one per episode, not one per alert."""


@dataclass(frozen=True)
class Hold:
    """No step now: the episode's next one is due ``until``, or never (None)."""

    until: datetime | None


def next_escalation(
    alerts: Sequence[AlertClock],
    chain: Sequence[Contact],
    now: datetime,
    *,
    after: timedelta,
) -> Escalation | Hold:
    """The step a high-risk episode is due for. Escalation follows the episode, not
    each alert: the chain is told once per step, whichever of the care team's alerts
    fell due; any of the care team acknowledging stops it for all; and it stops
    when the chain has nobody further up (the alerts stay open)."""
    team = [a for a in alerts if a.role in ESCALATING]
    if any(a.status == "acknowledged" for a in team):
        return Hold(None)
    waiting = [a for a in team if a.status == "open"]
    step = max((a.step for a in waiting), default=0)
    timed = [
        (a.escalate_at, str(a.alert_id), a)
        for a in waiting
        if a.step == step and a.escalate_at is not None
    ]
    if not timed or step >= len(chain):
        return Hold(None)
    due, _, carrier = min(timed)
    if due > now:
        return Hold(due)
    next_at = now + after if step + 1 < len(chain) else None
    return Escalation(step + 1, chain[step], next_at, carrier)
