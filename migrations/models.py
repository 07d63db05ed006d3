"""Every table Alembic manages: importing this fills events.store.tables.metadata."""

from events.store.tables import metadata
from services.api import tables as api_tables
from services.notifier import tables as notifier_tables
from services.notifier.recipients import tables as recipients_tables
from services.records import tables as records_tables
from services.reports import tables as reports_tables
from services.returns import tables as returns_tables
from services.triage import tables as triage_tables
from services.webhooks import tables as webhooks_tables

__all__ = [
    "api_tables",
    "metadata",
    "notifier_tables",
    "recipients_tables",
    "records_tables",
    "reports_tables",
    "returns_tables",
    "triage_tables",
    "webhooks_tables",
]
