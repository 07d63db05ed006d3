"""THE routing rules: (the assessment, the child's record, the time) -> who is told,
how much each may know, on which channels, and who is told next when nobody
acknowledges. Pure.

- The allocated social worker (and team) for every episode of a child the council
  looks after; outside office hours the out-of-hours duty team as well.
- The police Missing Children Exploitation Team for the placement district when the
  level is medium or high, or any exploitation flag is present.
- The home local authority of a child placed here by another authority, for every
  episode, with only what that authority needs (DOMAIN.md 1.6, 9.18).
- The duty team for a child the directory does not know.
- A team manager when the risk is high.
- A high-risk alert to the child's own council that nobody acknowledges in time goes
  up the council's escalation chain, one step at a time.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

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
    home_authority = "home_authority"  # placing LA: identity, dates, risk level only


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


@dataclass(frozen=True)
class Recipient:
    role: Role
    contact: Contact
    scope: Scope


OFFICE_HOURS = OfficeHours()


def recipients_for(
    case: Case, directory: Directory, hours: OfficeHours = OFFICE_HOURS
) -> list[Recipient]:
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
    if child is not None and child.ola:
        home = directory.la_contacts.get(child.placing_authority)
        out.append((Role.home_authority, home, Scope.home_authority))
    return _once_each(out)


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


def _once_each(
    candidates: Sequence[tuple[Role, Contact | None, Scope]],
) -> list[Recipient]:
    """One message per person: the first (widest) role they appear under wins. A role
    the council has configured nobody for is left out."""
    seen: set[str] = set()
    unique = []
    for role, contact, scope in candidates:
        if contact is not None and contact.recipient_id not in seen:
            seen.add(contact.recipient_id)
            unique.append(Recipient(role, contact, scope))
    return unique


POLICE_TEAMS = frozenset({Role.mcet})
"""Roles that are police teams: their alerts are the police's to read and
acknowledge, and the council's staff are not shown them (api.py)."""

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
    """An alert as escalation sees it."""

    status: str
    escalate_at: datetime | None
    step: int
    """The escalation steps taken so far."""


@dataclass(frozen=True)
class Escalation:
    step: int
    contact: Contact
    next_at: datetime | None


def next_escalation(
    alert: AlertClock, chain: Sequence[Contact], now: datetime, *, after: timedelta
) -> Escalation | None:
    """The step an open alert is due for: none before its time, and none once the
    chain has nobody further up (its timer stops; the alert stays open)."""
    step = alert.step + 1
    due = alert.escalate_at is not None and alert.escalate_at <= now
    if alert.status != "open" or not due or step > len(chain):
        return None
    next_at = now + after if step < len(chain) else None
    return Escalation(step, chain[step - 1], next_at)
