"""The notifier end to end in one process, on SQLite and PostgreSQL, against real
channel servers on loopback: an SMTP inbox and a partner's webhook endpoint."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from uuid import UUID, uuid4

import pytest
import structlog
from prometheus_client import REGISTRY

from events.contracts.alerts import AlertAcknowledged, AlertSendAttempted, AlertSent
from events.contracts.children import ChildRecorded
from events.contracts.children import Contact as Person
from events.contracts.missing import (
    Child,
    ChildFound,
    ChildMatch,
    ChildSighted,
    InformationAdded,
    LastSeen,
    MissingReported,
    Placement,
    RiskGrade,
)
from events.contracts.triage import Factor, RiskAssessed, RiskReassessed
from events.envelope import Envelope, NewEvent
from events.runtime import run_workers
from events.store import Append, Commit, Projector
from events.store.engine import create_engine
from events.store.sql import SqlEventStore
from events.subscriptions import Output, Subscriber
from events.subscriptions.store import StoreSubscription
from services.api.links import AckLinks
from services.notifier import metrics as notifier_metrics
from services.notifier.bootstrap import bootstrap
from services.notifier.channels import Channel, Message, Receipt
from services.notifier.channels.email import SmtpEmailChannel, SmtpSettings
from services.notifier.channels.notify import NotifySettings, NotifySmsChannel
from services.notifier.channels.webhook import WebhookChannel, WebhookSettings
from services.notifier.dispatcher import Dispatcher
from services.notifier.escalation import EscalationScheduler
from services.notifier.handlers import Notifier, subscriber
from services.notifier.projector import AlertsProjector
from services.notifier.readiness import unreachable
from services.notifier.routing import Contact, Directory
from services.notifier.settings import NotifierSettings
from services.notifier.tables import alerts, deliveries
from services.outbound import outbound_client
from services.records.children import ChildrenProjector
from services.records.episodes import EpisodesProjector
from services.triage.assessments import AssessmentsProjector
from tests.channel_servers import WEBHOOK_SECRET, Inbox, Receiver, serve_smtp
from tests.notify_server import NotifyServer, serve_app, serve_notify
from tests.waiting import eventually

WEDNESDAY_NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SOCIAL_WORKER = "alex.sw@council.example"
TEAM = "cic.west@council.example"
DUTY = "duty@council.example"
SOCIAL_WORKER_PHONE = "07700900123"
SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
NOTIFY_SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
SMS_TEMPLATE = "f33517ff-2a88-4f6e-b855-c550268ce08a"
PRIVATE = ("Fictional Road", "went to meet an older man")


@dataclass
class Clock:
    now: datetime = WEDNESDAY_NOON

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Rig:
    store: SqlEventStore
    inbox: Inbox
    hooks: Receiver
    notify: NotifyServer
    clock: Clock
    notifier: Notifier
    dispatcher: Dispatcher
    escalation: EscalationScheduler
    directory: Directory

    async def report(
        self, *, la_child_id: str = "C1", placing_authority: str = "886"
    ) -> UUID:
        """A report of the child, matched in the children's records, unless the
        records do not know ``la_child_id``."""
        episode_id = uuid4()
        known = la_child_id in ("C1", "C2", "C3")
        report = MissingReported(
            episode_id=episode_id, police_force="KENT",
            police_reference=f"KNT-{episode_id.hex[:6]}",
            reported_at=WEDNESDAY_NOON - timedelta(minutes=5),
            missing_since=WEDNESDAY_NOON - timedelta(hours=2), episode_type="missing",
            police_risk_grade=RiskGrade.medium,
            child=Child(la_child_id=la_child_id, given_name="Ada",
                        family_name="Fictitious", date_of_birth=date(2010, 3, 14),
                        gender="female"),
            placement=Placement(placing_authority=placing_authority,
                                placement_type="foster_care", postcode="ME14 1AA"),
            last_seen=LastSeen(description="Fictional Road", postcode="ME14 2BB"),
            circumstances="went to meet an older man",
            match=ChildMatch(status="matched", la_child_id=la_child_id, candidates=1)
            if known else ChildMatch(status="unmatched"),
        )  # fmt: skip
        await self.then(episode_id, report)
        return episode_id

    async def then(self, episode_id: UUID, event: Any) -> None:
        await self.store.commit(
            Commit([Append(f"episode-{episode_id}", [NewEvent(event=event)])])
        )

    async def assess(
        self, episode_id: UUID, level: RiskGrade, *, previous: RiskGrade | None = None
    ) -> None:
        fields: dict[str, Any] = {
            "episode_id": episode_id, "level": level, "score": 70,
            "factors": [Factor(code="cse_high", source="cse", evidence="CSE risk high",
                               weight=40, exploitation=True)],
            "actions": ["strategy discussion"], "sources_answered": ["cse"],
            "sources_missing": [], "policy_version": "test",
            "assessed_at": self.clock.now, "trigger": "reported",
        }  # fmt: skip
        if previous is None:
            await self.then(episode_id, RiskAssessed(**fields))
        else:
            await self.then(
                episode_id,
                RiskReassessed(**fields, previous_level=previous, added=[], removed=[]),
            )

    async def alert_rows(self, episode_id: UUID) -> list[Any]:
        async with self.store.engine.connect() as conn:
            query = alerts.select().where(alerts.c.episode_id == episode_id)
            return list(await conn.execute(query.order_by(alerts.c.role)))

    async def handled(self) -> None:
        """The notifier has handled everything recorded so far."""
        head = await self.store.head()

        async def caught_up() -> bool:
            return await self.store.checkpoint("notifier", "store") >= head

        await eventually(caught_up, what="notifier caught up")

    async def settled(self) -> None:
        """Every queued message is sent, failed for good, or cancelled."""

        async def quiet() -> bool:
            """In this order: the messages of everything up to the head are queued
            by the time the checkpoint passes it, so none can slip in unseen."""
            head = await self.store.head()
            if await self.store.checkpoint("notifier", "store") < head:
                return False
            async with self.store.engine.connect() as conn:
                busy = await conn.scalar(
                    deliveries.select()
                    .where(deliveries.c.status.in_(("pending", "attempting")))
                    .with_only_columns(deliveries.c.delivery_id)
                    .limit(1)
                )
            return busy is None

        await eventually(quiet, what="notifier settled")

    def hook_bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, _, body in self.hooks.received]


@asynccontextmanager
async def rig(
    database_url: str,
    *,
    dispatch: bool = True,
    mcet: Contact | None = None,
    poll_s: float = 0.05,
    stop: asyncio.Event | None = None,
    handlers: Callable[[Subscriber], Subscriber] = lambda s: s,
    only: Collection[str] | None = None,
) -> AsyncIterator[Rig]:
    """``only``: the channels the council has set up (default: all three)."""
    projectors: list[Projector] = [
        EpisodesProjector(),
        ChildrenProjector(),
        AssessmentsProjector(),
        AlertsProjector(),
    ]
    store = SqlEventStore(create_engine(database_url), projectors=projectors)
    inbox, hooks, clock = Inbox(), Receiver(), Clock()
    async with (
        serve_app(hooks.app()) as root,
        serve_notify(SERVICE_ID, NOTIFY_SECRET, templates={SMS_TEMPLATE}) as notify,
        outbound_client() as client,
    ):
        with serve_smtp(inbox) as smtp_port:
            directory = Directory(
                duty_team=Contact("duty", email=DUTY),
                mcet_default=mcet or Contact("mcet", webhook_url=f"{root}/hooks/mcet"),
                la_contacts={
                    "202": Contact("camden", webhook_url=f"{root}/hooks/camden")
                },
                escalation=(
                    Contact("manager", webhook_url=f"{root}/hooks/manager"),
                    Contact("head", webhook_url=f"{root}/hooks/head"),
                ),
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
                "sms": NotifySmsChannel(NotifySettings(
                    base_url=notify.base_url, sms_template_id=SMS_TEMPLATE,
                    api_key=f"test-{SERVICE_ID}-{NOTIFY_SECRET}"), client),
            }  # fmt: skip
            channels = {n: c for n, c in channels.items() if only is None or n in only}
            settings = NotifierSettings(
                notifier_attempts_per_channel=3, notifier_retry_first_s=0.01,
                notifier_retry_max_s=0.05, notifier_escalation_poll_s=0.05,
            ).model_copy(  # unvalidated: an hour's poll shows what wakes it
                update={"notifier_poll_s": poll_s})  # fmt: skip
            service = bootstrap(
                settings, store, client, AckLinks(b"k" * 32, "http://lantern.test"),
                channels=channels, directory=lookup, lease=timedelta(seconds=30),
                now=clock, subscription=lambda subscriber: StoreSubscription(
                    store, handlers(subscriber), poll_interval=0.05))  # fmt: skip
            notifier, dispatcher = service.notifier, service.dispatcher
            escalation = service.escalation
            team = Person(name="CiC West", email=TEAM)
            for la_child_id, social_worker, team_of in (
                ("C1", Person(name="Alex", email=SOCIAL_WORKER), None),
                ("C2", Person(name="Sam", phone=SOCIAL_WORKER_PHONE), None),
                ("C3", Person(name="Alex", email=SOCIAL_WORKER), team),
            ):
                await store.commit(Commit([Append(f"child-{la_child_id}", [NewEvent(
                    event=ChildRecorded(
                        la_child_id=la_child_id, given_name="Ada",
                        family_name="Fictitious", date_of_birth=date(2010, 3, 14),
                        looked_after=True, uasc=False, placing_authority="886",
                        placement_district="Maidstone", ola=False,
                        social_worker=social_worker, team=team_of))])]))  # fmt: skip
            stop = stop or asyncio.Event()
            workers = [service.subscription, escalation,
                       *([dispatcher] if dispatch else [])]  # fmt: skip
            task = asyncio.create_task(run_workers(workers, stop))
            try:
                yield Rig(store, inbox, hooks, notify, clock, notifier,
                          dispatcher, escalation, directory)  # fmt: skip
            finally:
                stop.set()
                await task
                await store.close()


def mail_to(inbox: Inbox, address: str) -> list[EmailMessage]:
    return [m for m, to in zip(inbox.received, inbox.recipients, strict=True)
            if address in to]  # fmt: skip


class TestAlerts:
    async def test_each_recipient_gets_one_message_with_what_they_need(
        self, database_url
    ):
        async with rig(database_url) as r:
            episode = await r.report()
            await r.assess(episode, RiskGrade.medium)
            await eventually(lambda: r.inbox.received and r.hooks.received)
            await r.settled()
            roles = {row.role: row for row in await r.alert_rows(episode)}
            assert set(roles) == {"social_worker", "mcet"}
            [mail] = mail_to(r.inbox, SOCIAL_WORKER)
            text = mail.get_content()
            assert "Ada Fictitious" in text and "went to meet an older man" in text
            assert "Ada" not in mail["Subject"]  # lock screens show subjects
            assert "http://lantern.test/v1/alerts/" in text  # the one-click link
            [police] = r.hook_bodies()
            assert all(valid for valid, _, _ in r.hooks.received)
            assert (
                "Ada Fictitious" in police["body"] and "CSE risk high" in police["body"]
            )
            assert not any(p in police["body"] for p in PRIVATE)  # least data

    async def test_an_exploitation_factor_alerts_the_police_team_at_low_risk(
        self, database_url
    ):
        """The factor says so itself (RiskAssessed v2): the notifier does not need
        triage's rules."""
        async with rig(database_url) as r:
            episode = await r.report()
            await r.assess(episode, RiskGrade.low)
            await eventually(lambda: r.hooks.received, what="the police team told")
            roles = {row.role for row in await r.alert_rows(episode)}
            assert roles == {"social_worker", "mcet"}

    async def test_each_commit_wakes_the_dispatcher(self, database_url):
        """Not its poll: in one process, a queued message goes out at once."""
        async with rig(database_url, poll_s=3600) as r:
            for expected in (1, 2, 3):
                episode = await r.report()
                await r.assess(episode, RiskGrade.low)

                def received(n: int = expected) -> bool:
                    return len(r.inbox.received) == n

                await eventually(received)

    async def test_a_redelivered_assessment_sends_nothing_twice(self, database_url):
        async with rig(database_url) as r:
            episode = await r.report()
            await r.assess(episode, RiskGrade.medium)
            await r.settled()
            [assessed] = [e for e in await r.store.read_stream(f"episode-{episode}")
                          if e.type == "RiskAssessed"]  # fmt: skip
            [handler] = subscriber(r.notifier).handlers["RiskAssessed"]
            assert await handler(assessed) == []  # alerts exist: nothing new
            assert len(r.inbox.received) == 1 and len(r.hooks.received) == 1

    async def test_a_temporary_failure_is_retried_under_the_same_key(
        self, database_url
    ):
        async with rig(database_url) as r:
            before = {o: messages("webhook", o) for o in ("sent", "failed", "parked")}
            r.hooks.status = 503
            episode = await r.report()
            await r.assess(episode, RiskGrade.medium)
            await eventually(lambda: failures(r), what="the first try recorded")
            r.hooks.status = 204
            r.clock.now += timedelta(seconds=1)  # past the backoff
            await r.settled()
            assert len(r.hooks.received) == 2
            keys = {h["idempotency-key"] for _, h, _ in r.hooks.received}
            assert len(keys) == 1
            types = [e.type for e in await r.store.read_all(after=0)]
            assert "AlertDeliveryFailed" in types
            moved = {o: messages("webhook", o) - n for o, n in before.items()}
            assert moved == {"sent": 1, "failed": 1, "parked": 0}

    async def test_a_recipients_only_channel_outlasts_the_other_channels_budget(
        self, database_url
    ):
        """The police team has a webhook and nothing else: an outage longer than the
        3 attempts a channel with a successor gets is waited out, not given up on
        (the fault drill lost the duty team's e-mails so)."""
        async with rig(database_url) as r:
            r.hooks.status = 503
            episode = await r.report()
            await r.assess(episode, RiskGrade.medium)
            for tried in range(1, 6):  # 5 failures: beyond the 3 of any other channel

                async def recorded(n: int = tried) -> bool:
                    return len(await failures(r)) >= n

                await eventually(recorded, what=f"failure {tried}")
                r.clock.now += timedelta(seconds=1)  # past the backoff
            r.hooks.status = 204
            r.clock.now += timedelta(seconds=1)
            await r.settled()
            attempts = [f.data for f in await failures(r)]
            assert len(attempts) == 5 and not any(a["permanent"] for a in attempts)
            assert r.hooks.received[-1][0]  # delivered, signed
            assert not mail_to(r.inbox, DUTY)  # no "could not be delivered"

    async def test_a_sender_that_dies_after_sending_is_followed_by_one_resend(
        self, database_url
    ):
        """Crash between sending and recording: the next sender resends under the
        same idempotency key, which the receiver uses to drop the repeat."""
        async with rig(database_url, dispatch=False) as r:
            doomed = Dispatcher(r.notifier, {n: Dies(c) for n, c in
                                             r.dispatcher.channels.items()},
                                None, policy=r.dispatcher.policy)  # fmt: skip
            episode = await r.report()
            await r.assess(episode, RiskGrade.medium)
            with pytest.raises(Died):  # sends the two messages claimed as raised
                await eventually(doomed.dispatch_due, what="two messages claimed")
            await eventually(lambda: r.inbox.received and r.hooks.received)
            assert await r.dispatcher.dispatch_due() == 0  # leased to the dead one
            r.clock.now += r.notifier.lease + timedelta(seconds=1)
            await eventually(r.dispatcher.dispatch_due, what="resent")
            await eventually(lambda: len(r.inbox.received) == 2)
            first, second = r.inbox.received
            assert first["Message-ID"] == second["Message-ID"]
            assert len({h["idempotency-key"] for _, h, _ in r.hooks.received}) == 1
            sent = [e.event for e in await r.store.read_all(after=0)
                    if isinstance(e.event, AlertSent)]  # fmt: skip
            assert sorted(e.attempt for e in sent) == [2, 2]

    async def test_a_new_alerts_first_message_is_claimed_as_it_is_raised(
        self, database_url
    ):
        """One commit records the alert and the attempt at its message, so the
        message goes out without waiting for another; it is still the one attempt."""
        async with rig(database_url, poll_s=3600) as r:
            episode = await r.report()
            await r.assess(episode, RiskGrade.medium)
            await r.settled()
            [assessed] = [e for e in await r.store.read_stream(f"episode-{episode}")
                          if e.type == "RiskAssessed"]  # fmt: skip
            for row in await r.alert_rows(episode):
                stream = await r.store.read_stream(f"alert-{row.alert_id}")
                raised, claim, sent = stream
                assert [e.type for e in stream] == [
                    "AlertRaised", "AlertSendAttempted", "AlertSent"]  # fmt: skip
                assert claim.causation_id == raised.causation_id == assessed.event_id
                assert isinstance(claim.event, AlertSendAttempted)
                assert isinstance(sent.event, AlertSent)
                assert claim.event.attempt == sent.event.attempt == 1
            assert len(r.inbox.received) == 1 and len(r.hooks.received) == 1

    async def test_a_notifier_that_dies_between_raising_and_sending_sends_later(
        self, database_url
    ):
        """Claimed as raised, then the process is gone: once the lease runs out the
        next process sends each message, once."""
        async with rig(database_url, dispatch=False) as r:
            episode = await r.report()
            await r.assess(episode, RiskGrade.medium)
            await eventually(lambda: claimed(r, 2), what="two messages claimed")
            store = SqlEventStore(  # the next process: nothing handed on to it
                create_engine(database_url), projectors=[AlertsProjector()]
            )
            try:
                notifier = replace(r.notifier, store=store)
                next_one = Dispatcher(notifier, r.dispatcher.channels, None,
                                      policy=r.dispatcher.policy)  # fmt: skip
                assert await next_one.dispatch_due() == 0  # leased to the dead one
                r.clock.now += r.notifier.lease + timedelta(seconds=1)
                await eventually(next_one.dispatch_due, what="sent")
            finally:
                await store.close()
            await r.settled()
            assert len(r.inbox.received) == 1 and len(r.hooks.received) == 1
            sent = [e.event for e in await r.store.read_all(after=0)
                    if isinstance(e.event, AlertSent)]  # fmt: skip
            assert sorted(e.attempt for e in sent) == [2, 2]

    async def test_a_stopping_notifier_sends_what_its_handlers_claimed_meanwhile(
        self, database_url
    ):
        """A handler still at work when the process is told to stop records the
        alert and its claim; the dispatcher stops after the handlers, so it sends the
        message instead of leaving it to wait out its lease in the next process."""
        stop, entered = asyncio.Event(), asyncio.Event()

        def held(notifier: Subscriber) -> Subscriber:
            [handle] = notifier.handlers["RiskAssessed"]

            async def raise_alerts(envelope: Envelope) -> Sequence[Output]:
                entered.set()
                await stop.wait()
                return await handle(envelope)

            return replace(notifier, handlers={"RiskAssessed": [raise_alerts]})

        async with rig(database_url, stop=stop, handlers=held) as r:
            episode = await r.report()
            await r.assess(episode, RiskGrade.medium)
            await eventually(entered.is_set, what="the assessment in hand")
        assert len(r.inbox.received) == 1 and len(r.hooks.received) == 1

    async def test_a_text_sent_before_a_crash_is_found_not_sent_again(
        self, database_url
    ):
        """Notify does not drop a repeat by itself; the resend looks the reference up
        first. The webhook has no such lookup: it is resent under the same key."""
        async with rig(database_url, dispatch=False) as r:
            doomed = Dispatcher(r.notifier, {n: Dies(c) for n, c in
                                             r.dispatcher.channels.items()},
                                None, policy=r.dispatcher.policy)  # fmt: skip
            episode = await r.report(la_child_id="C2")  # the social worker: a phone
            await r.assess(episode, RiskGrade.medium)
            with pytest.raises(Died):
                await eventually(doomed.dispatch_due, what="two messages claimed")
            await eventually(lambda: r.notify.state.received and r.hooks.received)
            r.clock.now += r.notifier.lease + timedelta(seconds=1)
            await eventually(r.dispatcher.dispatch_due, what="taken up again")
            await r.settled()
            assert len(r.notify.state.received) == 1  # found: not sent again
            assert len(r.hooks.received) == 2
            sent = [e.event for e in await r.store.read_all(after=0)
                    if isinstance(e.event, AlertSent)]  # fmt: skip
            [text] = [e for e in sent if e.channel == "sms"]
            assert text.provider_id == r.notify.state.received[0].id

    async def test_a_recipient_that_hangs_does_not_hold_up_the_next_alerts(
        self, database_url
    ):
        async with rig(database_url) as r:
            r.hooks.hang = True  # the police team's endpoint takes its time
            first = await r.report()
            await r.assess(first, RiskGrade.medium)
            await eventually(lambda: r.hooks.received, what="the webhook in flight")
            second = await r.report(la_child_id="C2")  # a social worker's phone
            await r.assess(second, RiskGrade.medium)
            await eventually(lambda: r.notify.state.received, what="the text")
            outcomes = [e.type for e in await r.store.read_all(after=0)
                        if e.type in ("AlertSent", "AlertDeliveryFailed")]  # fmt: skip
            assert "AlertDeliveryFailed" not in outcomes  # the webhook still hangs
            r.hooks.release.set()
            await r.settled()
            assert len(r.hooks.received) == 2

    async def test_a_permanent_failure_moves_on_and_tells_the_duty_team(
        self, database_url
    ):
        async with rig(database_url) as r:
            parked = messages("webhook", "parked")
            r.hooks.status = 410  # the police team's endpoint is gone
            episode = await r.report()
            await r.assess(episode, RiskGrade.medium)
            await r.settled()
            assert len(r.hooks.received) == 1  # a 410 is not retried
            assert messages("webhook", "parked") - parked == 1
            [notice] = mail_to(r.inbox, DUTY)
            assert "could not be delivered" in notice["Subject"]
            assert "mcet" in notice.get_content()
            async with r.store.engine.connect() as conn:
                query = deliveries.select().with_only_columns(
                    deliveries.c.kind, deliveries.c.status, deliveries.c.last_error
                )
                rows = sorted(tuple(row) for row in await conn.execute(query))
            assert ("alert", "failed", "http_410") in rows

    async def test_a_webhook_to_a_private_address_fails_for_good_and_is_reported(
        self, database_url
    ):
        """Not tried at all: the cloud's metadata service is not a police team."""
        metadata = Contact("mcet", webhook_url="https://169.254.169.254/latest")
        async with rig(database_url, mcet=metadata) as r:
            episode = await r.report()
            await r.assess(episode, RiskGrade.medium)
            await r.settled()
            [failed] = await failures(r)
            assert (failed.data["code"], failed.data["permanent"]) == (
                "invalid_url",
                True,
            )
            [notice] = mail_to(r.inbox, DUTY)
            assert "mcet" in notice.get_content()

    async def test_a_recipient_no_channel_reaches_is_named_to_the_duty_team(
        self, database_url
    ):
        mcet = Contact("mcet", phone="07700900999")
        async with rig(database_url, mcet=mcet, only={"email", "webhook"}) as r:
            with structlog.testing.capture_logs() as logs:
                episode = await r.report()
                await r.assess(episode, RiskGrade.medium)
                await eventually(
                    lambda: mail_to(r.inbox, DUTY), what="the duty team told"
                )
            [notice] = mail_to(r.inbox, DUTY)
            assert "mcet" in notice.get_content()
            assert not r.hooks.received
            assert [(e["event"], e["role"]) for e in logs
                    if e["log_level"] in ("warning", "error")] == [
                ("recipient_unreachable", "mcet")]  # fmt: skip
            found = await unreachable(r.notifier)
            assert found is not None and found.startswith("1 recipient(s)")

    async def test_with_no_channel_at_all_nothing_is_silent(self, database_url):
        """Alerts are raised, nobody can be sent anything: a warning for each
        recipient, an error for the duty team out of reach too, and readiness
        names the settings."""
        async with rig(database_url, only=()) as r:
            with structlog.testing.capture_logs() as logs:
                episode = await r.report()
                await r.assess(episode, RiskGrade.medium)

                async def raised() -> bool:
                    return len(await r.alert_rows(episode)) == 2

                await eventually(raised, what="both alerts raised")
            told = sorted((e["event"], e["role"]) for e in logs
                          if e["log_level"] in ("warning", "error"))  # fmt: skip
            assert told == [
                ("duty_team_unreachable", "mcet"),
                ("duty_team_unreachable", "social_worker"),
                ("recipient_unreachable", "mcet"),
                ("recipient_unreachable", "social_worker"),
            ]
            found = await unreachable(r.notifier)
            assert found is not None and "no delivery channel is set up" in found

    async def test_a_raised_level_updates_everyone_and_a_lower_one_sends_nothing(
        self, database_url
    ):
        async with rig(database_url) as r:
            episode = await r.report()
            await r.assess(episode, RiskGrade.medium)
            await r.settled()
            await r.assess(episode, RiskGrade.low, previous=RiskGrade.medium)
            await r.settled()
            assert len(r.inbox.received) == 1
            await r.assess(episode, RiskGrade.high, previous=RiskGrade.low)
            await r.settled()
            [_, update] = mail_to(r.inbox, SOCIAL_WORKER)
            assert "HIGH" in update["Subject"]
            assert [b["kind"] for b in r.hook_bodies()] == ["alert", "update"]

    async def test_a_found_child_closes_the_alerts_and_tells_whoever_was_told(
        self, database_url
    ):
        async with rig(database_url) as r:
            episode = await r.report()
            await r.assess(episode, RiskGrade.medium)
            await r.settled()
            await r.then(episode, ChildFound(
                episode_id=episode, found_at=WEDNESDAY_NOON, returned_to="placement",
                safe_and_well_check=True))  # fmt: skip
            await r.settled()
            assert {row.status for row in await r.alert_rows(episode)} == {"closed"}
            [_, over] = mail_to(r.inbox, SOCIAL_WORKER)
            assert "over" in over["Subject"]


class TestTheHomeAuthority:
    async def test_a_child_the_records_do_not_know_reaches_its_home_authority(
        self, database_url
    ):
        """Placed here by Camden (202), says the police report; this council (886)
        has no record of the child (DOMAIN 1.6, rule 18)."""
        async with rig(database_url) as r:
            episode = await r.report(la_child_id="X9", placing_authority="202")
            await r.assess(episode, RiskGrade.low)
            await r.settled()
            roles = {row.role for row in await r.alert_rows(episode)}
            assert roles == {"duty_team", "home_authority", "mcet"}
            [home] = [json.loads(b) for _, h, b in r.hooks.received
                      if h["x-path"] == "/hooks/camden"]  # fmt: skip
            assert "your authority" in home["body"].casefold()
            for needed in (
                "went to meet an older man",
                "Fictional Road",
                "CSE risk high (cse)",
                "Your child id: not known to us",
            ):
                assert needed in home["body"]  # fmt: skip


class TestNews:
    async def test_news_within_the_window_is_one_update_and_a_repeat_nothing(
        self, database_url
    ):
        async with rig(database_url) as r:
            episode = await r.report()
            await r.assess(episode, RiskGrade.medium)
            await r.settled()
            seen = ChildSighted(
                episode_id=episode,
                seen_at=WEDNESDAY_NOON,
                postcode="ME15 6AA",
                description="at the station",
            )
            said = InformationAdded(episode_id=episode, received_at=WEDNESDAY_NOON,
                                    information="her phone is back on")  # fmt: skip
            for event in (seen, said, seen):  # the sighting twice
                await r.then(episode, event)
            await r.handled()
            assert len(mail_to(r.inbox, SOCIAL_WORKER)) == 1  # the window is open
            r.clock.now += timedelta(seconds=61)
            await r.settled()
            [_, update] = mail_to(r.inbox, SOCIAL_WORKER)
            text = update.get_content()
            assert "at the station" in text and "her phone is back on" in text
            assert text.count("at the station") == 1
            assert kinds(r) == ["alert", "update"]  # the police team: one update too

            await r.then(episode, seen)  # the same sighting, later still
            await r.handled()
            r.clock.now += timedelta(seconds=61)
            await r.settled()
            assert len(mail_to(r.inbox, SOCIAL_WORKER)) == 2

    async def test_a_raised_level_takes_the_waiting_news_with_it_at_once(
        self, database_url
    ):
        async with rig(database_url) as r:
            episode = await r.report()
            await r.assess(episode, RiskGrade.medium)
            await r.settled()
            await r.then(episode, ChildSighted(
                episode_id=episode, seen_at=WEDNESDAY_NOON, postcode="ME15 6AA",
                description="with two older men"))  # fmt: skip
            await r.assess(episode, RiskGrade.high, previous=RiskGrade.medium)
            await r.settled()  # no time passes: the level goes at once
            [_, update] = mail_to(r.inbox, SOCIAL_WORKER)
            assert "HIGH" in update["Subject"]
            assert "with two older men" in update.get_content()
            r.clock.now += timedelta(seconds=61)
            await r.settled()
            assert len(mail_to(r.inbox, SOCIAL_WORKER)) == 2  # nothing after it


class TestEscalation:
    async def test_unacknowledged_high_risk_goes_up_the_chain_until_acknowledged(
        self, database_url
    ):
        async with rig(database_url) as r:
            episode = await r.report()
            await r.assess(episode, RiskGrade.high)
            await r.settled()
            assert "escalation" not in kinds(r)
            r.clock.now += timedelta(minutes=16)
            await eventually(lambda: kinds(r).count("escalation") == 1, what="step 1")
            await r.settled()
            rows = await r.alert_rows(episode)
            assert await alert_gauges(r) == restated(rows)
            assert restated(rows)["escalated"] == 1
            [sw] = [a for a in rows if a.role == "social_worker"]
            await acknowledge(r, sw.alert_id)
            r.clock.now += timedelta(minutes=16)
            await r.escalation.escalate_due()
            await r.settled()
            assert kinds(r).count("escalation") == 1  # acknowledged: no step 2
            rows = await r.alert_rows(episode)
            assert await alert_gauges(r) == restated(rows)
            assert restated(rows)["escalated"] == 0
            assert paths(r, "escalation") == ["/hooks/manager"]

    async def test_the_chain_is_told_once_per_step_for_the_whole_episode(
        self, database_url
    ):
        """The social worker and the team both have an alert; neither acknowledges."""
        async with rig(database_url) as r:
            episode = await r.report(la_child_id="C3")
            await r.assess(episode, RiskGrade.high)
            await r.settled()
            roles = {a.role for a in await r.alert_rows(episode)}
            assert {"social_worker", "team"} <= roles
            r.clock.now += timedelta(minutes=16)
            await eventually(lambda: "escalation" in kinds(r), what="step 1")
            await r.escalation.escalate_due()
            await r.settled()
            assert paths(r, "escalation") == ["/hooks/manager"]
            r.clock.now += timedelta(minutes=16)
            await eventually(lambda: len(paths(r, "escalation")) == 2, what="step 2")
            await r.escalation.escalate_due()
            await r.settled()
            assert paths(r, "escalation") == ["/hooks/manager", "/hooks/head"]

    async def test_the_teams_acknowledgement_stops_the_social_workers_escalation(
        self, database_url
    ):
        async with rig(database_url) as r:
            episode = await r.report(la_child_id="C3")
            await r.assess(episode, RiskGrade.high)
            await r.settled()
            [team] = [a for a in await r.alert_rows(episode) if a.role == "team"]
            await acknowledge(r, team.alert_id)
            r.clock.now += timedelta(minutes=16)
            await r.escalation.escalate_due()
            await r.settled()
            assert "escalation" not in kinds(r)
            assert {a.escalate_at for a in await r.alert_rows(episode)} == {None}

    async def test_the_timers_survive_a_restart(self, database_url):
        async with rig(database_url) as r:
            episode = await r.report()
            await r.assess(episode, RiskGrade.high)
            await r.settled()
        async with rig(database_url) as again:  # a new process, the same database
            again.clock.now += timedelta(minutes=16)
            await eventually(lambda: "escalation" in kinds(again), what="escalated")


def kinds(r: Rig) -> list[str]:
    return [b["kind"] for b in r.hook_bodies()]


def paths(r: Rig, kind: str) -> list[str]:
    """Where each webhook message of ``kind`` went."""
    return [
        headers["x-path"]
        for _, headers, body in r.hooks.received
        if json.loads(body)["kind"] == kind
    ]


async def acknowledge(r: Rig, alert_id: UUID) -> None:
    async with r.store.engine.connect() as conn:
        version = await conn.scalar(
            alerts.select().with_only_columns(alerts.c.version)
            .where(alerts.c.alert_id == alert_id))  # fmt: skip
    ack = AlertAcknowledged(alert_id=alert_id, acknowledged_at=r.clock.now, via="api")
    await r.store.commit(
        Commit([Append(f"alert-{alert_id}", [NewEvent(event=ack)], version)])
    )


class Died(BaseException):
    """The process is gone: nothing after the send runs."""


@dataclass
class Dies:
    """The channel it wraps, in a process that dies once the message is sent."""

    channel: Channel
    name: str = field(init=False)

    def __post_init__(self) -> None:
        self.name = self.channel.name

    async def send(self, message: Message) -> Receipt:
        await self.channel.send(message)
        raise Died


async def failures(r: Rig) -> list[Envelope]:
    return [
        e for e in await r.store.read_all(after=0) if e.type == "AlertDeliveryFailed"
    ]


async def claimed(r: Rig, count: int) -> bool:
    async with r.store.engine.connect() as conn:
        rows = (
            await conn.execute(
                deliveries.select().where(deliveries.c.status == "attempting")
            )
        ).all()
    return len(rows) == count


def messages(channel: str, outcome: str) -> float:
    """``lantern_messages_total`` as this process counted it so far."""
    labels = {"channel": channel, "outcome": outcome}
    return REGISTRY.get_sample_value("lantern_messages_total", labels) or 0.0


async def alert_gauges(r: Rig) -> dict[str, float | None]:
    """The alert gauges as the notifier process exports them, refreshed now."""
    await notifier_metrics.probe(r.store)()
    return {
        kind: REGISTRY.get_sample_value(f"lantern_alerts_{kind}")
        for kind in ("open", "unacknowledged", "escalated")
    }


def restated(rows: list[Any]) -> dict[str, float | None]:
    """The same figures, counted plainly from the alerts read model."""
    live = [a for a in rows if a.status in ("open", "acknowledged")]
    waiting = [a for a in live if a.status == "open"]
    return {
        "open": len(live),
        "unacknowledged": len(waiting),
        "escalated": len([a for a in waiting if a.escalation_step > 0]),
    }
