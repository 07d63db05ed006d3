"""The notifier's readiness check: a recipient no channel set up can reach makes the
process `degraded`, naming the settings to set and nobody in particular."""

from __future__ import annotations

from services.notifier.readiness import problem
from services.notifier.routing import Contact, Directory

DUTY = Contact("duty", email="duty@council.example")
MCET = Contact("mcet", webhook_url="https://police.example/hooks")
OUT_OF_HOURS = Contact("edt", phone="07700900001")


class TestChannelsCheck:
    def test_no_channel_set_up_is_a_problem_even_with_nobody_to_tell(self):
        found = problem(None, ())
        assert found is not None
        assert "no delivery channel is set up" in found
        assert "LANTERN_CHANNELS__WEBHOOK__SECRET" in found

    def test_every_recipient_reachable_is_fine(self):
        directory = Directory(duty_team=DUTY, mcet_default=MCET)
        assert problem(directory, {"email", "webhook"}) is None

    def test_recipients_no_channel_reaches_are_counted_with_the_settings_missing(self):
        directory = Directory(
            duty_team=DUTY,
            out_of_hours=OUT_OF_HOURS,
            mcet_by_district={"Maidstone": MCET},
            escalation=(Contact("head", email="head@council.example"),),
        )
        found = problem(directory, {"webhook"})
        assert found is not None
        assert found.startswith("3 recipient(s)")
        assert "LANTERN_CHANNELS__EMAIL__HOST" in found
        assert "LANTERN_CHANNELS__NOTIFY__API_KEY" in found
        assert "WEBHOOK" not in found
        assert "duty" not in found and "edt" not in found  # /ready has no token

    def test_one_recipient_in_two_places_counts_once(self):
        directory = Directory(duty_team=DUTY, out_of_hours=DUTY)
        found = problem(directory, {"webhook"})
        assert found is not None and found.startswith("1 recipient(s)")
