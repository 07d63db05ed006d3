"""Nothing falls through (#18): what follows an episode reaches the people who must
act, through the notifier's usual path, on SQLite and PostgreSQL. The whole chain
runs in one process: the police API, triage (no sources configured), returns and
the notifier, with a real SMTP inbox for the council's staff and a real webhook
endpoint for the police exploitation team (MCET)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from sqlalchemy import select

from events.contracts.children import ChildRecorded
from events.contracts.children import Contact as Person
from events.contracts.missing import ChildFound, RiskGrade
from events.contracts.returns import (
    Concern,
    Deadline,
    ReturnInterviewOverdue,
    ReturnReasonsRecorded,
)
from events.contracts.triage import FrequentlyMissingCrossed
from events.envelope import NewEvent
from events.history import history_actor
from events.runtime import run_workers
from events.store import Append, Commit
from events.subscriptions import RetryPolicy
from events.subscriptions.store import StoreSubscription
from services.api.links import AckLinks
from services.notifier.bootstrap import bootstrap as notifier_bootstrap
from services.notifier.channels import Channel
from services.notifier.channels.email import SmtpEmailChannel, SmtpSettings
from services.notifier.channels.webhook import WebhookChannel, WebhookSettings
from services.notifier.handlers import Notifier
from services.notifier.handlers import subscriber as notifier_subscriber
from services.notifier.routing import Contact, Directory
from services.notifier.settings import NotifierSettings
from services.notifier.tables import alerts, deliveries
from services.outbound import outbound_client
from services.returns.bootstrap import ReturnsService
from services.returns.bootstrap import bootstrap as returns_bootstrap
from services.returns.settings import ReturnsSettings
from services.triage.bootstrap import bootstrap as triage_bootstrap
from services.triage.policy_file import load_policy
from services.triage.settings import TriageSettings
from tests.api import Api, a_report_body, serve_api
from tests.channel_servers import WEBHOOK_SECRET, Inbox, Receiver, serve_smtp
from tests.integration.test_notifier import Rig as NotifierRig
from tests.integration.test_notifier import acknowledge, kinds, paths
from tests.integration.test_notifier import rig as notifier_rig
from tests.notify_server import serve_app
from tests.waiting import eventually

LONDON = ZoneInfo("Europe/London")
NOW = datetime.now(UTC).replace(microsecond=0)
SOCIAL_WORKER = "alex.sw@council.example"
MANAGER = "tm.west@council.example"
DUTY = "duty@council.example"
OVERDUE = "return interview overdue"
STRATEGY = "strategy discussion"
CONCERNS = "exploitation concerns"
PENDING = select(deliveries.c.alert_id).where(
    deliveries.c.status.in_(("pending", "attempting"))
)


@dataclass
class Clock:
    now: datetime = field(default=NOW)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Rig:
    api: Api
    returns: ReturnsService
    clock: Clock
    inbox: Inbox
    hooks: Receiver
    notifier: Notifier

    async def episode(self, missing_since: datetime, **overrides: Any) -> str:
        body = a_report_body(
            f"KNT-{uuid4().hex[:8]}",
            missing_since=missing_since.isoformat(),
            reported_at=(missing_since + timedelta(minutes=30)).isoformat(),
            **overrides,
        )
        body["child"]["la_child_id"] = "C1"
        response = await self.api.post("/v1/missing-reports", body)
        assert response.status_code == 202, response.text
        return str(response.json()["episode_id"])

    async def found(self, episode_id: str, at: datetime) -> None:
        response = await self.api.post(
            f"/v1/episodes/{episode_id}/found",
            {"found_at": at.isoformat(), "returned_to": "placement",
             "safe_and_well_check": True},
        )  # fmt: skip
        assert response.status_code == 202, response.text

    async def withdrawn_in_error(self, episode_id: str) -> None:
        response = await self.api.post(
            f"/v1/episodes/{episode_id}/withdrawal", {"reason": "reported_in_error"}
        )
        assert response.status_code == 202, response.text

    async def interview(self, episode_id: str) -> dict[str, Any]:
        async def opened() -> dict[str, Any] | None:
            r = await self.api.get(
                f"/v1/episodes/{episode_id}/return-interview", client="oncall"
            )
            return r.json() if r.status_code == 200 else None

        return await eventually(opened, what="interview opened")

    async def interview_status(self, episode_id: str, status: str) -> bool:
        return bool((await self.interview(episode_id))["status"] == status)

    async def record(self, episode_id: str, body: dict[str, Any]) -> None:
        response = await self.api.http.put(
            f"/v1/episodes/{episode_id}/return-interview",
            json=body,
            headers=self.api.auth("oncall"),
        )
        assert response.status_code == 200, response.text

    async def settled(self) -> None:
        """Every subscriber has handled everything recorded so far, and every
        message queued is sent."""
        store = self.api.store

        async def quiet() -> bool:
            head = await store.head()
            for name in ("triage", "returns", "notifier"):
                if await store.checkpoint(name, "store") < head:
                    return False
            return not await store.select(PENDING.limit(1))

        await eventually(quiet, timeout=20, what="everything handled and sent")

    def mail(self, address: str, about: str) -> list[EmailMessage]:
        return [
            m
            for m, to in zip(self.inbox.received, self.inbox.recipients, strict=True)
            if address in to and about in m["Subject"]
        ]

    def hooks_about(self, about: str) -> list[dict[str, Any]]:
        bodies = [json.loads(body) for _, _, body in self.hooks.received]
        return [b for b in bodies if about in b["subject"]]

    async def past(self, stream_id: str, event: Any) -> None:
        """Recorded as a history import records it."""
        new = NewEvent(event=event, actor=history_actor("council-2025"))
        await self.api.store.commit(Commit([Append(stream_id, [new])]))

    async def stream(self, name: str) -> list[str]:
        return [e.type for e in await self.api.store.read_stream(name)]


@asynccontextmanager
async def a_rig(database_url: str) -> AsyncIterator[Rig]:
    clock, inbox, hooks = Clock(), Inbox(), Receiver()
    async with (
        serve_api(database_url) as api,
        serve_app(hooks.app()) as root,
        outbound_client() as client,
    ):
        store = api.store

        def fed(s: Any) -> StoreSubscription:
            return StoreSubscription(
                store, s, poll_interval=0.05, retry=RetryPolicy(attempts=3)
            )

        with serve_smtp(inbox) as smtp_port:
            directory = Directory(
                duty_team=Contact("duty", email=DUTY),
                mcet_default=Contact("mcet", webhook_url=f"{root}/hooks/mcet"),
                team_managers={"CiC West": Contact("tm-west", email=MANAGER)},
            )

            async def lookup() -> Directory:
                return directory

            channels: dict[str, Channel] = {
                "email": SmtpEmailChannel(SmtpSettings(
                    host="127.0.0.1", port=smtp_port, starttls=False, timeout_s=5,
                    from_address="lantern@council.example")),
                "webhook": WebhookChannel(WebhookSettings(
                    secret=WEBHOOK_SECRET, timeout_s=5,
                    allowed_hosts=frozenset({"127.0.0.1"})), client),
            }  # fmt: skip
            notifier = notifier_bootstrap(
                NotifierSettings(notifier_escalation_poll_s=0.05), store, client,
                AckLinks(b"k" * 32, "http://lantern.test"), channels=channels,
                directory=lookup, subscription=fed,
            )  # fmt: skip
            triage = triage_bootstrap(
                TriageSettings(), store, load_policy(), sources=[], subscription=fed
            )
            returns = returns_bootstrap(
                ReturnsSettings(), store, now=clock, subscription=fed
            )
            await store.commit(Commit([Append("child-C1", [NewEvent(
                event=ChildRecorded(
                    la_child_id="C1", given_name="Sam", family_name="Taylor",
                    date_of_birth=date(2011, 5, 14),  # a_report_body's child
                    looked_after=True, uasc=False, placing_authority="886",
                    placement_district="Maidstone", ola=False,
                    social_worker=Person(name="Alex", email=SOCIAL_WORKER),
                    team=Person(name="CiC West", email="cic.west@council.example"),
                ))])]))  # fmt: skip
            stop = asyncio.Event()
            workers = [triage.subscription, returns.subscription, *notifier.workers]
            task = asyncio.create_task(run_workers(workers, stop))
            try:
                yield Rig(api, returns, clock, inbox, hooks, notifier.notifier)
            finally:
                stop.set()
                await task


async def returned_and_due(rig: Rig) -> tuple[str, datetime]:
    """An episode of the child, over: its interview due, and when it falls overdue."""
    episode = await rig.episode(NOW - timedelta(days=1))
    await rig.found(episode, NOW - timedelta(hours=2))
    got = await rig.interview(episode)
    return episode, datetime.fromisoformat(got["overdue_at"])


class TestOverdueInterview:
    async def test_the_social_worker_and_team_manager_are_told_once(self, database_url):
        async with a_rig(database_url) as rig:
            episode, overdue_at = await returned_and_due(rig)
            got = await rig.interview(episode)
            await rig.settled()
            assert rig.mail(SOCIAL_WORKER, OVERDUE) == []  # not before its time
            rig.clock.now = overdue_at - timedelta(seconds=1)
            assert await rig.returns.overdue.mark_overdue() == 0
            rig.clock.now = overdue_at
            await rig.returns.overdue.mark_overdue()
            await rig.settled()
            await rig.returns.overdue.mark_overdue()  # again: nothing new
            [to_worker] = rig.mail(SOCIAL_WORKER, OVERDUE)
            [to_manager] = rig.mail(MANAGER, OVERDUE)
            due = date.fromisoformat(got["due_date"]).strftime("%a %d %b %Y")
            for mail in (to_worker, to_manager):
                text = mail.get_content()
                assert f"due by {due} (3 working days after the return)" in text
                assert "Sam" not in mail["Subject"]
                assert "Did not return from school" not in text  # least data
                assert "http://lantern.test/v1/alerts/" in text  # acknowledgeable
            assert rig.hooks_about(OVERDUE) == []  # the police are not told
            assert rig.mail(DUTY, OVERDUE) == []
            listed = (await rig.api.get("/v1/alerts", client="oncall")).json()
            overdue_alerts = [
                a for a in listed["items"] if a["matter"] == "interview_overdue"
            ]
            assert sorted(a["role"] for a in overdue_alerts) == [
                "social_worker",
                "team_manager",
            ]
            acked = await rig.api.post(
                f"/v1/alerts/{overdue_alerts[0]['alert_id']}/ack", {}, client="oncall"
            )
            assert acked.json()["status"] == "acknowledged", acked.text

            [overdue] = [
                e for e in await rig.api.store.read_stream(f"interview-{episode}")
                if e.type == "ReturnInterviewOverdue"
            ]  # fmt: skip
            [handler] = notifier_subscriber(rig.notifier).handlers[overdue.type]
            assert await handler(overdue) == []  # a redelivery raises nothing
            await rig.settled()
            assert len(rig.mail(SOCIAL_WORKER, OVERDUE)) == 1
            assert len(rig.mail(MANAGER, OVERDUE)) == 1

    async def test_nobody_is_told_of_an_interview_done_refused_or_taken_over(
        self, database_url
    ):
        async with a_rig(database_url) as rig:
            done, overdue_at = await returned_and_due(rig)
            returned = NOW - timedelta(hours=2)
            await rig.record(done, {
                "offered": True, "offered_at": (returned + timedelta(minutes=30))
                .isoformat(), "offered_by": "independent_provider", "accepted": True,
                "completed_at": (returned + timedelta(hours=1)).isoformat(),
            })  # fmt: skip
            refused, _ = await returned_and_due(rig)
            await rig.record(refused, {
                "offered": True, "offered_at": (returned + timedelta(minutes=30))
                .isoformat(), "offered_by": "social_worker", "accepted": False,
            })  # fmt: skip
            taken_over, _ = await returned_and_due(rig)
            await rig.episode(NOW - timedelta(hours=1))  # missing again
            await eventually(
                lambda: rig.interview_status(taken_over, "superseded"),
                what="superseded",
            )
            rig.clock.now = overdue_at + timedelta(days=30)
            assert await rig.returns.overdue.mark_overdue() == 0
            await rig.settled()
            assert rig.mail(SOCIAL_WORKER, OVERDUE) == []
            assert rig.mail(MANAGER, OVERDUE) == []

    async def test_the_past_of_a_history_import_alerts_nobody(self, database_url):
        async with a_rig(database_url) as rig:
            episode, overdue_at = await returned_and_due(rig)
            got = await rig.interview(episode)
            past = ReturnInterviewOverdue(
                episode_id=UUID(episode), la_child_id="C1",
                due_date=datetime.fromisoformat(got["due_date"]).date(),
                due_72h_at=datetime.fromisoformat(got["due_72h_at"]),
                deadline=Deadline.working_days, overdue_at=overdue_at,
            )  # fmt: skip
            await rig.past(f"interview-{episode}", past)
            await rig.settled()
            assert rig.mail(SOCIAL_WORKER, OVERDUE) == []
            assert rig.mail(MANAGER, OVERDUE) == []
            assert await matter_alerts(rig) == []


class TestStrategyDiscussion:
    async def test_one_prompt_per_crossing_and_again_after_falling_below(
        self, database_url
    ):
        """3 missing episodes in 90 days (the shipped policy). Restated: episodes
        on days -200, -199, -198 cross at the third; the fourth (-197) is above
        already; -10, -9 are 1 and 2 in their window; -8 crosses again."""
        async with a_rig(database_url) as rig:
            days = [-200, -199, -198, -197, -10, -9, -8]
            episodes = [await rig.episode(NOW + timedelta(days=d)) for d in days]
            await rig.settled()
            crossed = [
                e for e in episodes
                if "FrequentlyMissingCrossed" in await rig.stream(f"episode-{e}")
            ]  # fmt: skip
            assert crossed == [episodes[2], episodes[6]]
            assert len(rig.mail(MANAGER, STRATEGY)) == 2
            prompts = rig.hooks_about(STRATEGY)
            assert len(prompts) == 2  # MCET
            assert "missing 3 times in 90 days" in prompts[0]["body"]
            assert rig.mail(SOCIAL_WORKER, STRATEGY) == []

    async def test_away_and_reports_made_in_error_do_not_count(self, database_url):
        async with a_rig(database_url) as rig:
            in_error = await rig.episode(NOW - timedelta(days=20))
            await rig.withdrawn_in_error(in_error)
            await rig.episode(NOW - timedelta(days=19), episode_type="away")
            await rig.episode(NOW - timedelta(days=18))
            await rig.episode(NOW - timedelta(days=17))
            await rig.settled()
            assert rig.mail(MANAGER, STRATEGY) == []  # 2 missing that count
            third = await rig.episode(NOW - timedelta(days=16))
            await rig.settled()
            assert "FrequentlyMissingCrossed" in await rig.stream(f"episode-{third}")
            assert len(rig.mail(MANAGER, STRATEGY)) == 1
            assert len(rig.hooks_about(STRATEGY)) == 1

    async def test_an_away_episode_found_to_be_missing_crosses(self, database_url):
        async with a_rig(database_url) as rig:
            await rig.episode(NOW - timedelta(days=5))
            await rig.episode(NOW - timedelta(days=4))
            away = await rig.episode(NOW - timedelta(days=3), episode_type="away")
            await rig.settled()
            assert rig.mail(MANAGER, STRATEGY) == []  # 2 missing, 1 away
            response = await rig.api.post(
                f"/v1/episodes/{away}/reclassification",
                {"episode_type": "missing", "reason": "Not at her aunt's after all"},
            )
            assert response.status_code == 202, response.text
            await rig.settled()
            assert "FrequentlyMissingCrossed" in await rig.stream(f"episode-{away}")
            assert len(rig.mail(MANAGER, STRATEGY)) == 1
            assert len(rig.hooks_about(STRATEGY)) == 1


class TestInterviewConcerns:
    async def test_the_police_team_is_told_once_and_the_next_episode_weighs_them(
        self, database_url
    ):
        async with a_rig(database_url) as rig:
            first, _ = await returned_and_due(rig)
            returned = NOW - timedelta(hours=2)
            body: dict[str, Any] = {
                "offered": True,
                "offered_at": (returned + timedelta(minutes=30)).isoformat(),
                "offered_by": "independent_provider", "accepted": True,
                "completed_at": (returned + timedelta(hours=1)).isoformat(),
                "reasons": ["peer_influence"], "concerns": ["cse"],
                "notes": "Met an older man at the station.",
            }  # fmt: skip
            await rig.record(first, body)
            await rig.settled()
            await rig.record(first, {**body, "concerns": ["cse", "gangs"]})
            await rig.settled()
            [told] = rig.hooks_about(CONCERNS)
            assert "child sexual exploitation (CSE)" in told["body"]
            assert "older man" not in told["body"]  # the notes are staff only
            assert "peer_influence" not in told["body"]
            assert rig.mail(SOCIAL_WORKER, CONCERNS) == []

            later_since = NOW - timedelta(minutes=30)
            later = await rig.episode(later_since)
            await rig.settled()
            [assessed] = [
                e for e in await rig.api.store.read_stream(f"episode-{later}")
                if e.type == "RiskAssessed"
            ]  # fmt: skip
            codes = {f["code"]: f["weight"] for f in assessed.data["factors"]}
            assert codes["return_interview_concerns"] == 30
            # Restated: police grade medium 35, an earlier missing episode in the
            # year 5, concerns at its interview 30; 10 more if reported at night.
            reported = (later_since + timedelta(minutes=30)).astimezone(LONDON)
            night = 10 if reported.hour >= 22 or reported.hour < 6 else 0
            assert assessed.data["score"] == 35 + 5 + 30 + night
            assert assessed.data["level"] == "high"  # 60 and above
            assert "Sam" not in told["subject"]

    async def test_history_concerns_weigh_but_alert_nobody(self, database_url):
        async with a_rig(database_url) as rig:
            first, _ = await returned_and_due(rig)
            past = ReturnReasonsRecorded(
                episode_id=UUID(first), taxonomy_version="1", reasons=["other"],
                concerns=[Concern.cce], recorded_at=NOW - timedelta(hours=1),
            )  # fmt: skip
            await rig.past(f"interview-{first}", past)
            later = await rig.episode(NOW - timedelta(minutes=30))
            await rig.settled()
            assert rig.hooks_about(CONCERNS) == []
            [assessed] = [
                e for e in await rig.api.store.read_stream(f"episode-{later}")
                if e.type == "RiskAssessed"
            ]  # fmt: skip
            assert "return_interview_concerns" in {
                f["code"] for f in assessed.data["factors"]
            }


async def matter_alerts(rig: Rig) -> list[Any]:
    return list(
        await rig.api.store.select(alerts.select().where(alerts.c.matter.is_not(None)))
    )


class TestBesideTheEpisodesAlerts:
    """A matter's alert lives beside the episode's risk alerts: acknowledging it
    does not stop the episode's escalation, and the episode's news and end leave
    it alone (the notifier's own rig: its clock drives escalation)."""

    @staticmethod
    async def crossed(r: NotifierRig, episode: UUID) -> None:
        await r.then(episode, FrequentlyMissingCrossed(
            episode_id=episode, la_child_id="C3", episodes=3, days=90, threshold=3,
            crossed_at=r.clock.now))  # fmt: skip
        await r.settled()

    async def test_acknowledging_a_prompt_does_not_stop_the_episodes_escalation(
        self, database_url
    ):
        async with notifier_rig(database_url) as r:
            episode = await r.report(la_child_id="C3")
            await r.assess(episode, RiskGrade.high)
            await self.crossed(r, episode)
            [prompt] = [
                a for a in await r.alert_rows(episode)
                if a.matter == "strategy_discussion" and a.role == "duty_team"
            ]  # fmt: skip
            await acknowledge(r, prompt.alert_id)
            r.clock.now += timedelta(minutes=16)
            await eventually(lambda: "escalation" in kinds(r), what="escalated")
            await r.settled()
            assert paths(r, "escalation") == ["/hooks/manager"]

    async def test_the_episodes_end_leaves_a_prompt_open(self, database_url):
        async with notifier_rig(database_url) as r:
            episode = await r.report(la_child_id="C3")
            await r.assess(episode, RiskGrade.medium)
            await self.crossed(r, episode)
            await r.then(episode, ChildFound(
                episode_id=episode, found_at=r.clock.now, returned_to="placement",
                safe_and_well_check=True))  # fmt: skip
            await r.settled()
            status = {(a.matter, a.role): a.status for a in await r.alert_rows(episode)}
            assert status == {
                (None, "social_worker"): "closed",
                (None, "team"): "closed",
                (None, "mcet"): "closed",
                ("strategy_discussion", "duty_team"): "open",
                ("strategy_discussion", "mcet"): "open",
            }
            closing = [m for m in r.inbox.received if "episode over" in m["Subject"]]
            assert len(closing) == 2  # the social worker and the team, not the duty
