"""The yardstick for bench/intake.py: the same body validated by the same rules,
answered 202, but nothing stored and nobody authenticated. The process settles its
garbage collector as every Lantern process does, so only storing the report
differs."""

from datetime import UTC, datetime

from fastapi import FastAPI, HTTPException

from events.runtime import settle_after_start
from services.intake.schemas import MissingReportCreate
from services.intake.validation import report_problems
from services.records.authorities import la_codes

app = FastAPI()
settle_after_start()  # at import, once the app and its models are built


@app.post("/v1/missing-reports", status_code=202)
async def report_missing(body: MissingReportCreate) -> dict[str, str]:
    if problems := report_problems(body, datetime.now(UTC), la_codes()):
        raise HTTPException(422, problems)
    return {"status": "open"}
