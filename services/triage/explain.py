"""`lantern policy explain`: why an episode has its level, in words a duty manager
can read aloud. Prints no personal data: codes, sources, evidence and weights."""

from __future__ import annotations

from collections.abc import Sequence

from events.contracts.triage import RiskAssessed, RiskReassessed
from events.registry import Event


def explain(events: Sequence[Event]) -> str:
    history = [e for e in events if isinstance(e, RiskAssessed | RiskReassessed)]
    if not history:
        return "not assessed yet"
    last = history[-1]
    lines = [
        f"level {last.level} (score {last.score}; policy {last.policy_version}; "
        f"assessed {last.assessed_at.isoformat()} on {last.trigger})",
        "",
        "factor                  weight  source          evidence",
    ]
    lines += [
        f"{f.code:<22} {f.weight:>7}  {f.source:<15} {f.evidence}" for f in last.factors
    ]
    lines.append("")
    lines.append(f"actions: {', '.join(last.actions) or 'none'}")
    lines.append(f"sources answered: {', '.join(last.sources_answered) or 'none'}")
    if last.sources_missing:
        lines.append(f"sources NOT answered: {', '.join(last.sources_missing)}")
    if len(history) > 1:
        lines.append("")
        lines.append("history:")
        lines += [
            f"  {e.assessed_at.isoformat()}  {e.trigger:<22} -> {e.level}"
            for e in history
        ]
    return "\n".join(lines)
