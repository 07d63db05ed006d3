"""The reasons a child gives for going missing, as codes from a versioned taxonomy.

Families follow the source document's chart "Top 12 reasons that citizen CLA go
missing" (§6; the chart's labels are not in the text we hold, so the families are
the commonly recorded ones, seeking contact with family and friends first: 56% of
episodes there). A code is never renamed or reused; a new version may add codes.
Meanings: docs/return-interviews.md.
"""

from __future__ import annotations

VERSION = "1"

REASONS: dict[str, str] = {
    "family_friends_contact": (
        "Seeking contact with family, friends, boyfriend or girlfriend"
    ),
    "placement_unhappy": "Unhappy in the placement: carers, rules, other children",
    "peer_influence": "Went with or was drawn away by peers",
    "freedom_boundaries": "Wanted freedom; testing boundaries or a curfew",
    "alcohol_substances": "Alcohol or drug use",
    "exploitation": "Groomed, exploited or coerced (sexual or criminal)",
    "conflict": "An argument or conflict at the placement",
    "bullying": "Bullying or trouble at school or in the community",
    "emotional_wellbeing": "Emotional wellbeing or mental health",
    "avoiding_consequences": "Avoiding consequences of something they did",
    "home_area": "Wanted to go back to their home area or a previous placement",
    "other": "Another reason, described in the notes",
    "not_disclosed": "The child did not say",
}


GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("People", ("family_friends_contact", "peer_influence", "home_area")),
    ("The placement", ("placement_unhappy", "conflict", "freedom_boundaries")),
    ("Harm and risk", ("exploitation", "alcohol_substances", "bullying")),
    ("Wellbeing", ("emotional_wellbeing", "avoiding_consequences")),
    ("Other", ("other", "not_disclosed")),
)
"""The codes grouped by category, for a form: each code in one group, in order."""


def unknown_reasons(codes: list[str]) -> list[int]:
    """Positions of codes this version does not know."""
    return [i for i, code in enumerate(codes) if code not in REASONS]
