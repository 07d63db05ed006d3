"""What makes a directory entry acceptable, and the Directory routing reads. Pure.

Each routing role has places: the duty team, the MCET of a district, the contact of an
LA, an escalation step. A place holds at most one recipient, checked as each entry is
recorded, so every prefix of the log is a valid directory.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence, Set

from events.contracts.recipients import RecipientKind, RecipientRecorded
from services.notifier.destinations import url_problem
from services.notifier.routing import Contact, Directory

Problem = tuple[str, str]
RECIPIENT_ID = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,59}$"
"""No ':', so a recipient never meets routing's ``role:key`` ids of allocated staff."""

_EMAIL = re.compile(r"^[^@\s<>,;:\"()\[\]\\]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_UK_MOBILE = re.compile(r"^(?:07|\+447)(\d{9})$")
_KEY_MEANS = {
    RecipientKind.la_contact: "the DfE LA code",
    RecipientKind.team_manager: "the team's name, as the child's record has it",
    RecipientKind.escalation: "the step, 1 for the first",
}


def slot_of(entry: RecipientRecorded) -> str:
    """The place in routing the entry fills."""
    return f"{entry.kind}:{entry.key}" if entry.key else str(entry.kind)


def checked(
    entry: RecipientRecorded, la_codes: frozenset[str], webhook_hosts: Set[str]
) -> tuple[RecipientRecorded, list[Problem]]:
    """The entry as it is stored (blanks dropped, key and phone normalised), and what
    is wrong with it. ``webhook_hosts``: hosts a webhook may reach whatever they
    are (destinations.py)."""
    key, problems = _key(entry.kind, _blank(entry.key), la_codes)
    email, phone, url = map(_blank, (entry.email, entry.phone, entry.webhook_url))
    if not (email or phone or url):
        problems.append(("email", "is required when there is no phone or webhook_url"))
    if email and not _EMAIL.match(email):
        problems.append(("email", "is not an e-mail address"))
    mobile = _UK_MOBILE.match(phone.replace(" ", "")) if phone else None
    if phone and not mobile:
        problems.append(("phone", "is not a UK mobile number (07… or +447…)"))
    if url and (why := url_problem(url, webhook_hosts)):
        problems.append(("webhook_url", why))
    if not _blank(entry.name):
        problems.append(("name", "is blank"))
    normal = {
        "key": key,
        "email": email,
        "phone": f"+447{mobile[1]}" if mobile else phone,
        "webhook_url": url,
        "name": entry.name.strip(),
    }
    return entry.model_copy(update=normal), problems


def _blank(value: str | None) -> str | None:
    return (value or "").strip() or None


def _key(
    kind: RecipientKind, key: str | None, la_codes: frozenset[str]
) -> tuple[str | None, list[Problem]]:
    if kind in (RecipientKind.duty_team, RecipientKind.out_of_hours):
        return None, [("key", f"must be empty for {kind}")] if key else []
    if kind is RecipientKind.mcet:  # none: the MCET for any other district
        return key, []
    if key is None:
        return None, [("key", f"is required for {kind}: {_KEY_MEANS[kind]}")]
    if kind is RecipientKind.la_contact and key not in la_codes:
        return key, [("key", "is not a known local authority code")]
    if kind is RecipientKind.escalation:
        if not (key.isascii() and key.isdigit() and int(key) > 0):
            return key, [("key", "must be a whole number from 1 (the step)")]
        return str(int(key)), []
    return key, []


def clashes(
    existing: Iterable[RecipientRecorded], incoming: Sequence[RecipientRecorded]
) -> list[tuple[int, Problem]]:
    """Incoming entries (by index) whose place another recipient holds when they are
    recorded, in order: to swap two places, move one to a free place first."""
    slots = {e.recipient_id: slot_of(e) for e in existing}
    holders = {slot: recipient_id for recipient_id, slot in slots.items()}
    problems = []
    for index, entry in enumerate(incoming):
        slot = slot_of(entry)
        holder = holders.get(slot, entry.recipient_id)
        if holder != entry.recipient_id:
            field = "key" if entry.key else "kind"
            reason = f"recipient {holder!r} already holds {slot}: change or remove it"
            problems.append((index, (field, reason)))
            continue
        holders.pop(slots.get(entry.recipient_id, ""), None)
        slots[entry.recipient_id], holders[slot] = slot, entry.recipient_id
    return problems


def listing_order(entry: RecipientRecorded) -> tuple[int, int, str, str]:
    """Kinds in the order routing uses them, escalation steps by number."""
    step = int(entry.key or 0) if entry.kind is RecipientKind.escalation else 0
    kinds = list(RecipientKind)
    return kinds.index(entry.kind), step, entry.key or "", entry.recipient_id


def directory_of(entries: Iterable[RecipientRecorded]) -> Directory:
    keyed: dict[RecipientKind, dict[str, Contact]] = {k: {} for k in RecipientKind}
    for e in entries:
        keyed[e.kind][e.key or ""] = Contact(
            e.recipient_id, email=e.email, phone=e.phone, webhook_url=e.webhook_url
        )
    mcet, steps = keyed[RecipientKind.mcet], keyed[RecipientKind.escalation]
    return Directory(
        duty_team=keyed[RecipientKind.duty_team].get(""),
        out_of_hours=keyed[RecipientKind.out_of_hours].get(""),
        mcet_by_district={district: c for district, c in mcet.items() if district},
        mcet_default=mcet.get(""),
        la_contacts=keyed[RecipientKind.la_contact],
        team_managers=keyed[RecipientKind.team_manager],
        escalation=tuple(steps[step] for step in sorted(steps, key=int)),
    )
