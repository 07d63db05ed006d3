"""Alerts about a matter of an episode rather than its risk: who is told, and what.
Pure, like routing.py and messages.py, whose rules it follows (one message per
address, least data, subjects that never name the child).

- An overdue return interview: the child's allocated social worker and the team
  manager of the child's team (the duty team when nobody is allocated or the
  records do not know the child); and, for a child placed by another council, its
  home authority, which does the interview (source document 2.3, DOMAIN.md 1.6).
- A strategy discussion, when the child crosses the frequently-missing threshold
  (DOMAIN.md 5.4, appendix flow chart): the team manager of the child's team (the
  duty team when none is configured) and the police exploitation team (MCET).
- Exploitation concerns raised at a return interview: the police exploitation team.
"""

from __future__ import annotations

from events.contracts.alerts import AlertMatter
from events.contracts.children import ChildRecorded
from services.notifier.messages import EpisodeFacts, Words, shown
from services.notifier.routing import (
    Contact,
    Directory,
    Recipient,
    Role,
    Scope,
    once_each,
)

Candidate = tuple[Role, Contact | None, Scope]


def matter_recipients(
    matter: AlertMatter,
    child: ChildRecorded | None,
    directory: Directory,
    home_authority: str | None = None,
) -> list[Recipient]:
    """Who is told of the matter, once each. ``home_authority``: the DfE code of
    the child's placing authority when that is another council."""
    out: list[Candidate] = []
    if matter.kind == "interview_overdue":
        out += _social_worker(child, directory)
        if home_authority:
            home = directory.la_contacts.get(home_authority)
            out.append((Role.home_authority, home, Scope.home_authority))
    if matter.kind in ("interview_overdue", "strategy_discussion"):
        out.append(_team_manager(child, directory, matter.kind))
    if matter.kind in ("strategy_discussion", "exploitation_concerns"):
        district = child.placement_district if child else None
        mcet = directory.mcet_by_district.get(district or "", directory.mcet_default)
        out.append((Role.mcet, mcet, Scope.police))
    return once_each(out, ())


def _social_worker(child: ChildRecorded | None, d: Directory) -> list[Candidate]:
    worker = child.social_worker if child else None
    if child is None or worker is None or not (worker.email or worker.phone):
        return [(Role.duty_team, d.duty_team, Scope.full)]
    contact = Contact(
        f"{Role.social_worker}:{child.la_child_id}",
        email=worker.email,
        phone=worker.phone,
    )
    return [(Role.social_worker, contact, Scope.full)]


def _team_manager(child: ChildRecorded | None, d: Directory, kind: str) -> Candidate:
    manager = d.team_managers.get(child.team.name) if child and child.team else None
    if manager is None and kind == "strategy_discussion":
        return (Role.duty_team, d.duty_team, Scope.full)  # someone must convene it
    return (Role.team_manager, manager, Scope.full)


CONCERNS = {
    "cse": "child sexual exploitation (CSE)",
    "cce": "child criminal exploitation (CCE)",
    "trafficking": "trafficking",
    "gangs": "gangs",
}
DEADLINES = {"3_working_days": "3 working days", "72_hours": "72 hours"}


def matter_words(matter: AlertMatter, facts: EpisodeFacts) -> Words:
    """The matter and the episode it follows, the same for every scope: the
    child's identity, level and police reference, as every alert of the episode
    gives them; nothing of the circumstances, reasons or interview notes."""
    report, child = facts.report, facts.report.child
    ref = f"{report.police_force}/{report.police_reference}"
    if matter.kind == "interview_overdue":
        subject = f"Lantern: return interview overdue ({ref})"
        due = f"{matter.due_date:%a %d %b %Y}" if matter.due_date else "its deadline"
        rule = DEADLINES.get(matter.deadline or "", matter.deadline)
        lead = (
            f"The return interview after this episode is overdue: it was due by "
            f"{due} ({rule} after the return) and is neither completed nor "
            "refused. Please arrange it, or record what happened."
        )
    elif matter.kind == "strategy_discussion":
        subject = f"Lantern: strategy discussion - frequently missing ({ref})"
        lead = (
            f"This child has been missing {matter.episodes} times in {matter.days} "
            "days, this episode included. A strategy discussion is recommended: "
            "children frequently missing are at higher risk of exploitation."
        )
    else:
        subject = f"Lantern: exploitation concerns at a return interview ({ref})"
        named = ", ".join(CONCERNS.get(c, c) for c in matter.concerns)
        lead = f"The return interview after this episode raised concerns of {named}."
    who = f"{child.given_name} {child.family_name}, born {child.date_of_birth:%d %b %Y}"
    lines = [
        lead,
        "",
        f"Child: {who}",
        f"Risk: {facts.level.value.replace('_', ' ')}",
        f"Missing since: {shown(report.missing_since)}",
        f"Police: {report.police_force} reference {report.police_reference}",
    ]
    return Words(subject=subject, body="\n".join(lines))
