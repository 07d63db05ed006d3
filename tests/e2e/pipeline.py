"""The pipeline the end-to-end tests run as processes on PostgreSQL and Kafka: the
reference sources, intake, triage, the notifier and the relay, with real channel
servers on loopback; one child (Ada) and her recipients."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.channel_servers import WEBHOOK_SECRET
from tests.e2e.processes import free_port, lantern, run_lantern

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
NOTIFY_SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
SMS_TEMPLATE = "f33517ff-2a88-4f6e-b855-c550268ce08a"
CHILD = (
    "la_child_id,given_name,family_name,date_of_birth,looked_after,uasc,"
    "placing_authority,placement_district,ola,social_worker_name,social_worker_email,"
    "social_worker_phone,team_name,team_email,team_phone\n"
    "FICT0001,Ada,Fictitious,2009-03-14,true,false,202,Maidstone,true,"
    "Alex,,07700900123,,,\n"
)


def recipients(hooks: str) -> str:
    return (
        "recipient_id,kind,key,name,email,phone,webhook_url\n"
        f"mcet,mcet,,Police MCET,,,{hooks}/mcet\n"
        "la-202,la_contact,202,Camden missing children,missing@la202.example,,\n"
    )


def processes_env(
    pg: str, kafka: str, prefix: str, smtp_port: int, notify_url: str
) -> dict[str, str]:
    sources_port = free_port()
    return {
        "LANTERN_DATABASE_URL": pg,
        "LANTERN_KAFKA_BOOTSTRAP_SERVERS": kafka,
        "LANTERN_KAFKA_TOPIC_PREFIX": prefix,
        "LANTERN_KAFKA_GROUP_PREFIX": prefix,  # groups of its own on a shared broker
        "LANTERN_ENVIRONMENT": "test",  # the log allow-list is on
        "LANTERN_PORT": str(free_port()),
        "SOURCES_PORT": str(sources_port),
        **{
            f"LANTERN_SOURCES__{name.upper()}__BASE_URL": (
                f"http://127.0.0.1:{sources_port}/{name}"
            )
            for name in ("youth_justice", "cme", "cse")
        },
        "LANTERN_CHANNELS__EMAIL__HOST": "127.0.0.1",
        "LANTERN_CHANNELS__EMAIL__PORT": str(smtp_port),
        "LANTERN_CHANNELS__EMAIL__STARTTLS": "false",
        "LANTERN_CHANNELS__EMAIL__FROM_ADDRESS": "lantern@council.example",
        "LANTERN_CHANNELS__NOTIFY__BASE_URL": notify_url,
        "LANTERN_CHANNELS__NOTIFY__API_KEY": f"e2e-{SERVICE_ID}-{NOTIFY_SECRET}",
        "LANTERN_CHANNELS__NOTIFY__SMS_TEMPLATE_ID": SMS_TEMPLATE,
        "LANTERN_CHANNELS__WEBHOOK__SECRET": WEBHOOK_SECRET,
        "LANTERN_CHANNELS__WEBHOOK__ALLOWED_HOSTS": "127.0.0.1",  # the receiver
        "LANTERN_NOTIFIER_LINK_SECRET": "a-link-secret-for-end-to-end-tests-0123",
        "LANTERN_NOTIFIER_POLL_S": "0.2",
        # The killed notifier's messages are sent again when their lease runs out:
        # seconds here, not production's 90 (a lease outlasts every channel timeout);
        # the restarted one waits out the killed one's Kafka session for its
        # partitions: the broker's least (group.min.session.timeout.ms).
        **{
            f"LANTERN_CHANNELS__{c}__TIMEOUT_S": "4"
            for c in ("EMAIL", "NOTIFY", "WEBHOOK")
        },
        "LANTERN_NOTIFIER_LEASE_S": "5",
        "LANTERN_KAFKA_SESSION_TIMEOUT_MS": "6000",
    }


def set_up(env: dict[str, str], folder: Path, hooks: str) -> str:
    (folder / "children.csv").write_text(CHILD)
    (folder / "recipients.csv").write_text(recipients(hooks))
    for args in (
        ("db", "upgrade"),
        ("children", "import", str(folder / "children.csv")),
        ("recipients", "import", str(folder / "recipients.csv")),
    ):
        done = run_lantern(*args, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
    created = run_lantern(
        "clients", "create", "--name", "kent", "--role", "police", "--force", "KENT",
        env=env,
    )  # fmt: skip
    return created.stdout.strip().splitlines()[-1]


def start_pipeline(env: dict[str, str]) -> dict[str, subprocess.Popen[bytes]]:
    """The five processes, by name, each its own `lantern` command."""
    return {
        name: lantern(*args, env=env)
        for name, args in {
            "sources": ("sources", "serve", "--port", env["SOURCES_PORT"]),
            "intake": ("intake", "--port", env["LANTERN_PORT"]),
            "triage": ("triage",),
            "notifier": ("notifier",),
            "relay": ("relay",),
        }.items()
    }
