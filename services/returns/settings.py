"""The returns service's settings: which deadline the council enforces, and how
often the overdue scheduler looks."""

from pydantic import Field

from events.contracts.returns import Deadline
from events.settings import CoreSettings


class ReturnsSettings(CoreSettings):
    returns_deadline: Deadline = Field(
        Deadline.working_days,
        description="Enforced: 3_working_days (the council's policy) or 72_hours "
        "(DfE 2014); both are always shown",
    )
    returns_overdue_poll_s: float = Field(
        30.0, gt=0, description="How often overdue interviews are looked for"
    )
