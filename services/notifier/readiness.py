"""The notifier's readiness check: can every recipient of the directory be reached by
a channel this council has set up? A recipient none reaches still gets alerts raised
(and the duty team a notice naming them), but nothing is sent to them, so ``/ready``
says ``degraded`` and names the channel settings missing (docs/operations.md). It
counts recipients and names no one: ``/ready`` needs no token."""

from __future__ import annotations

from collections.abc import Collection, Iterator

from events.contracts.alerts import ChannelName
from services.notifier.handlers import Notifier
from services.notifier.routing import Contact, Directory, channels_for

SETTINGS: dict[ChannelName, str] = {
    "webhook": "LANTERN_CHANNELS__WEBHOOK__SECRET",
    "email": "LANTERN_CHANNELS__EMAIL__HOST (or GOV.UK Notify's)",
    "sms": "LANTERN_CHANNELS__NOTIFY__API_KEY and __SMS_TEMPLATE_ID",
}


async def unreachable(notifier: Notifier) -> str | None:
    configured = notifier.configured_channels
    return problem(await notifier.directory() if configured else None, configured)


def problem(directory: Directory | None, configured: Collection[str]) -> str | None:
    """What is missing, or None when every recipient has a channel set up."""
    if not configured:
        return "no delivery channel is set up, so no alert can be sent: set " + (
            " or ".join(SETTINGS.values()) + " (docs/channels.md)"
        )
    missing = _unreachable(directory or Directory(), configured)
    if not missing:
        return None
    needed = sorted({c for contact in missing for c in _addressed(contact)})
    return (
        f"{len(missing)} recipient(s) of the directory have an address on no channel "
        "set up (`lantern recipients list` shows whose): set "
        + " or ".join(SETTINGS[c] for c in needed)
        + " (docs/channels.md)"
    )


def _unreachable(directory: Directory, configured: Collection[str]) -> list[Contact]:
    unique = {c.recipient_id: c for c in _contacts(directory)}
    return [c for c in unique.values() if not channels_for(c, configured)]


def _contacts(d: Directory) -> Iterator[Contact]:
    singles = (d.duty_team, d.out_of_hours, d.mcet_default)
    yield from (c for c in singles if c is not None)
    yield from d.mcet_by_district.values()
    yield from d.la_contacts.values()
    yield from d.team_managers.values()
    yield from d.escalation


def _addressed(contact: Contact) -> list[ChannelName]:
    """The channels the contact has an address for."""
    return channels_for(contact, tuple(SETTINGS))
