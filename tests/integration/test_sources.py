"""Each source adapter against the reference server, for real on loopback: answers,
faults, retries and the circuit breaker. Also the contract document and the
settings that choose the adapters."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog.testing
import yaml
from prometheus_client import REGISTRY

from services.outbound import outbound_client
from services.reference_sources.server import (
    FACTS_MODELS,
    load_reference_data,
)
from services.triage.sources import (
    ChildRef,
    CmeFacts,
    CseFacts,
    CseLevel,
    NotKnown,
    SourceName,
    SourceUnavailableError,
    YjLevel,
    YouthJusticeFacts,
)
from services.triage.sources.http import (
    BreakerState,
    CircuitBreaker,
    HttpSource,
    LookupRequest,
    SourceSettings,
)
from services.triage.sources.settings import ADAPTERS, SourcesSettings, build_sources
from tests.e2e.processes import free_port
from tests.reference import Reference, serve_reference

ROOT = Path(__file__).parents[2]
ADA = ChildRef("FICT0001", "Ada", "Fictitious", date(2009, 3, 14))
BEN = ChildRef("FICT0002", "Ben", "Imaginary", date(2011, 9, 2))
CLEO = ChildRef("FICT0003", "Cleo", "Invented", date(2008, 11, 30))
DAN = ChildRef("FICT0004", "Dan", "Unknown", date(2010, 6, 21))
YJ, CME, CSE = SourceName.youth_justice, SourceName.cme, SourceName.cse


@pytest.fixture
async def reference() -> AsyncIterator[Reference]:
    async with serve_reference() as ref:
        yield ref


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with outbound_client() as client:
        yield client


def adapter(
    ref: Reference, source: SourceName, client: httpx.AsyncClient, **settings: Any
) -> HttpSource:
    settings = {"backoff_s": 0.01, **settings}
    return ADAPTERS[source](
        SourceSettings(base_url=ref.base_url(source), **settings), client
    )


class TestAnswers:
    @pytest.mark.parametrize(
        ("source", "child", "facts"),
        [
            (
                YJ,
                ADA,
                YouthJusticeFacts(
                    open_case=True,
                    risk_of_serious_harm=YjLevel.high,
                    safety_and_wellbeing=YjLevel.medium,
                    criminal_exploitation=True,
                    county_lines=True,
                ),
            ),
            (
                CME,
                BEN,
                CmeFacts(
                    missing_education=True,
                    persistently_absent=True,
                    since=date(2025, 1, 13),
                ),
            ),
            (
                CSE,
                CLEO,
                CseFacts(
                    cse_risk=CseLevel.high,
                    assessed_on=date(2025, 2, 3),
                    cce=True,
                    gangs=True,
                ),
            ),
        ],
        ids=["yj-open-case-high-rosh-county-lines", "cme-since", "cse-high-with-cce"],
    )
    async def test_found_facts_arrive_as_the_source_dataclass(
        self, reference, client, source, child, facts
    ):
        assert await adapter(reference, source, client).lookup(child) == facts

    @pytest.mark.parametrize("source", list(SourceName))
    async def test_a_child_the_source_does_not_hold_is_not_known(
        self, reference, client, source
    ):
        assert await adapter(reference, source, client).lookup(DAN) == NotKnown()

    async def test_without_a_council_id_the_child_is_matched_by_name_and_birth(
        self, reference, client
    ):
        shouting = ChildRef(None, "CLEO", " invented ", CLEO.date_of_birth)
        facts = await adapter(reference, YJ, client).lookup(shouting)
        assert facts == YouthJusticeFacts(
            open_case=False,
            risk_of_serious_harm=YjLevel.low,
            safety_and_wellbeing=YjLevel.low,
        )

    async def test_the_same_name_born_another_day_is_someone_else(
        self, reference, client
    ):
        other = ChildRef(None, "Ada", "Fictitious", date(2009, 3, 15))
        assert await adapter(reference, YJ, client).lookup(other) == NotKnown()

    async def test_a_source_with_a_token_refuses_callers_without_it(self, client):
        token = uuid.uuid4().hex
        async with serve_reference(token=token) as ref:
            with pytest.raises(SourceUnavailableError, match="http_status"):
                await adapter(ref, CSE, client).lookup(CLEO)
            facts = await adapter(ref, CSE, client, token=token).lookup(CLEO)
        assert isinstance(facts, CseFacts)


class TestUnavailable:
    async def test_a_down_source_is_unavailable_after_its_retries(
        self, reference, client
    ):
        before = calls(YJ, "error")
        await reference.fault(YJ, down=True)
        with pytest.raises(SourceUnavailableError, match="http_status"):
            await adapter(reference, YJ, client, retries=2).lookup(ADA)
        assert await reference.requests(YJ) == 3
        assert calls(YJ, "error") - before == 3  # each attempt, as the source saw

    async def test_a_refused_connection_is_unavailable(self, client):
        settings = SourceSettings(base_url=f"http://127.0.0.1:{free_port()}/cme")
        with pytest.raises(SourceUnavailableError, match="ConnectError"):
            await ADAPTERS[CME](settings, client).lookup(BEN)

    async def test_a_slow_source_is_cut_off_at_the_timeout(self, reference, client):
        before = calls(CME, "timeout")
        await reference.fault(CME, latency_ms=500)
        source = adapter(reference, CME, client, timeout_s=0.1, retries=1)
        with pytest.raises(SourceUnavailableError, match="Timeout"):
            await source.lookup(BEN)
        assert await reference.requests(CME) == 2
        assert calls(CME, "timeout") - before == 2

    @pytest.mark.parametrize("malformed", ["invalid_json", "wrong_schema"])
    async def test_garbage_is_unavailable_and_logged_without_personal_data(
        self, reference, client, malformed
    ):
        await reference.fault(CSE, malformed=malformed)
        with (
            structlog.testing.capture_logs() as logs,
            pytest.raises(SourceUnavailableError, match=malformed) as caught,
        ):
            await adapter(reference, CSE, client).lookup(CLEO)

        [entry] = logs
        assert entry["event"] == "source_lookup_failed"
        assert entry["error_type"] == malformed
        assert entry["status"] == 200
        assert entry["source"] == "cse"
        written = repr(logs) + str(caught.value)
        for personal in ("Cleo", "Invented", "2008-11-30", "FICT0003"):
            assert personal not in written
        assert await reference.requests(CSE) == 1, "garbage is not worth a retry"

    async def test_facts_of_the_wrong_shape_name_the_field_not_the_value(
        self, reference, client
    ):
        await reference.fault(YJ, malformed="wrong_schema")
        with (
            structlog.testing.capture_logs() as logs,
            pytest.raises(SourceUnavailableError),
        ):
            await adapter(reference, YJ, client).lookup(ADA)
        assert logs[0]["error"] == "facts:model_type"


class TestRetries:
    async def test_a_retry_succeeds_after_transient_failures(self, reference, client):
        before = {o: calls(CSE, o) for o in ("ok", "error", "timeout")}
        await reference.fault(CSE, fail_next=2)
        facts = await adapter(reference, CSE, client, retries=2).lookup(CLEO)
        assert isinstance(facts, CseFacts)
        assert await reference.requests(CSE) == 3
        moved = {o: calls(CSE, o) - n for o, n in before.items()}
        assert moved == {"ok": 1, "error": 2, "timeout": 0}

    async def test_retries_run_out(self, reference, client):
        await reference.fault(CSE, fail_next=2)
        with pytest.raises(SourceUnavailableError):
            await adapter(reference, CSE, client, retries=1).lookup(CLEO)

    async def test_every_lookup_fails_when_the_error_rate_is_one(
        self, reference, client
    ):
        await reference.fault(CME, error_rate=1.0)
        with pytest.raises(SourceUnavailableError):
            await adapter(reference, CME, client, retries=1).lookup(BEN)
        assert await reference.requests(CME) == 2


class TestCircuitBreaker:
    async def test_it_opens_after_consecutive_failures_and_then_fails_fast(
        self, reference, client
    ):
        source = adapter(reference, YJ, client, retries=0, breaker_failures=3)
        await reference.fault(YJ, down=True)
        for _ in range(3):
            with pytest.raises(SourceUnavailableError, match="http_status"):
                await source.lookup(ADA)
        await reference.fault(YJ)

        with pytest.raises(SourceUnavailableError, match="circuit_open"):
            await source.lookup(ADA)
        assert await reference.requests(YJ) == 3
        assert source.breaker.state is BreakerState.open

    async def test_it_opening_mid_lookup_stops_the_retries(self, reference, client):
        source = adapter(reference, YJ, client, retries=5, breaker_failures=2)
        await reference.fault(YJ, down=True)
        with pytest.raises(SourceUnavailableError, match="http_status"):
            await source.lookup(ADA)
        assert await reference.requests(YJ) == 2

    async def test_after_the_reset_time_one_probe_closes_it(self, reference, client):
        now = [0.0]
        breaker = CircuitBreaker(failures=1, reset_s=30, clock=lambda: now[0])
        settings = SourceSettings(base_url=reference.base_url(CME), retries=0)
        source = ADAPTERS[CME](settings, client, breaker=breaker)
        await reference.fault(CME, down=True)
        with pytest.raises(SourceUnavailableError):
            await source.lookup(BEN)
        await reference.fault(CME)
        with pytest.raises(SourceUnavailableError, match="circuit_open"):
            await source.lookup(BEN)

        now[0] += 30
        assert isinstance(await source.lookup(BEN), CmeFacts)
        assert breaker.state is BreakerState.closed


class TestFaultsLive:
    async def test_faults_flip_while_the_server_runs(self, reference, client):
        source = adapter(reference, CSE, client, retries=0)
        assert isinstance(await source.lookup(CLEO), CseFacts)
        await reference.fault(CSE, down=True)
        with pytest.raises(SourceUnavailableError):
            await source.lookup(CLEO)
        await reference.fault(CSE)
        assert isinstance(await source.lookup(CLEO), CseFacts)

    async def test_faults_are_per_source(self, reference, client):
        await reference.fault(YJ, down=True)
        assert await adapter(reference, CME, client).lookup(DAN) == NotKnown()

    async def test_the_faults_endpoint_reports_and_validates(self, reference):
        await reference.fault(CME, latency_ms=5, fail_next=1)
        faults = (await reference.http.get("/_faults")).json()
        assert faults["cme"] == {
            "latency_ms": 5,
            "error_rate": 0.0,
            "down": False,
            "malformed": "none",
            "fail_next": 1,
            "requests": 0,
        }
        bad = await reference.http.put("/_faults/cme", json={"error_rate": 2})
        unknown = await reference.http.put("/_faults/police", json={})
        assert (bad.status_code, unknown.status_code) == (422, 422)


class TestReferenceData:
    async def test_a_folder_of_csvs_serves_the_same_facts(self, tmp_path, client):
        (tmp_path / "youth_justice.csv").write_text(
            "la_child_id,given_name,family_name,date_of_birth,open_case,"
            "risk_of_serious_harm,county_lines\n"
            "FICT0001,Ada,Fictitious,2009-03-14,true,VERY_HIGH,true\n"
            ",Ben,Imaginary,2011-09-02,false,,false\n"
        )
        async with serve_reference(tmp_path) as ref:
            source = adapter(ref, YJ, client)
            ada, ben = await source.lookup(ADA), await source.lookup(BEN)
            not_held = await adapter(ref, CME, client).lookup(ADA)
        assert ada == YouthJusticeFacts(
            open_case=True, risk_of_serious_harm=YjLevel.very_high, county_lines=True
        )
        assert ben == YouthJusticeFacts(open_case=False)
        assert not_held == NotKnown()

    @pytest.mark.parametrize(
        ("body", "problem"),
        [
            ('{"police": []}', "expected an object keyed by"),
            ('{"cme": [{"given_name": "Ada"}]}', "cme[0]: family_name:missing"),
            (
                '{"cse": [{"given_name": "A", "family_name": "B", '
                '"date_of_birth": "2010-01-01", "risk": "high"}]}',
                "cse[0]: unknown field(s) ['risk']",
            ),
        ],
    )
    def test_bad_reference_data_is_refused_naming_the_record(
        self, tmp_path, body, problem
    ):
        path = tmp_path / "reference.json"
        path.write_text(body)
        with pytest.raises(ValueError, match=re.escape(problem)):
            load_reference_data(path)


class TestSettings:
    def test_sources_come_from_nested_variables(self, monkeypatch):
        monkeypatch.setenv("LANTERN_SOURCES__CME__BASE_URL", "http://cme.test/api")
        monkeypatch.setenv("LANTERN_SOURCES__CME__TOKEN", "t0ken")
        monkeypatch.setenv("LANTERN_SOURCES__CME__TIMEOUT_S", "0.5")
        monkeypatch.setenv("LANTERN_SOURCES__CSE__BASE_URL", "https://cse.test")
        monkeypatch.setenv("LANTERN_SOURCES__CSE__BREAKER_FAILURES", "9")
        settings = SourcesSettings()
        cme = settings.sources.cme
        assert str(cme.base_url) == "http://cme.test/api"
        assert cme.token is not None and cme.token.get_secret_value() == "t0ken"
        assert (cme.timeout_s, cme.retries) == (0.5, 2)
        assert settings.sources.cse.breaker_failures == 9
        assert not settings.sources.youth_justice.configured

    async def test_only_configured_sources_are_built(self, client):
        settings = SourcesSettings.model_validate(
            {"sources": {"cse": {"base_url": "http://127.0.0.1:1/cse"}}}
        )
        [source] = build_sources(settings, lambda: client)
        assert source.name is CSE

    def test_an_adapter_refuses_settings_without_a_base_url(self, client):
        with pytest.raises(ValueError, match="not configured"):
            ADAPTERS[YJ](SourceSettings(), client)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docs" / "sources.openapi.yaml").read_text())


class TestContractDocument:
    """docs/sources.openapi.yaml is what councils build to: it must say what the
    adapters accept, field for field."""

    def test_it_is_openapi_3_1_with_a_lookup_per_source(self, document):
        assert document["openapi"].startswith("3.1")
        assert set(document["paths"]) == {f"/{s}/v1/lookup" for s in SourceName}

    @pytest.mark.parametrize("source", list(SourceName))
    def test_facts_schemas_match_the_adapters(self, document, source):
        model = FACTS_MODELS[source].model_json_schema()
        schemas = document["components"]["schemas"]
        documented = schemas[f"{FACTS_MODELS[source].__name__.removesuffix('Body')}"]
        assert set(documented["properties"]) == set(model["properties"])
        assert set(documented.get("required", [])) == set(model.get("required", []))
        for enum_name in model.get("$defs", {}):
            assert schemas[enum_name]["enum"] == model["$defs"][enum_name]["enum"]

    def test_the_request_schema_matches(self, document):
        documented = document["components"]["schemas"]["LookupRequest"]
        assert set(documented["properties"]) == set(LookupRequest.model_fields)


def calls(source: SourceName, outcome: str) -> float:
    """``lantern_source_calls_total`` as this process counted it so far."""
    labels = {"source": source.value, "outcome": outcome}
    return REGISTRY.get_sample_value("lantern_source_calls_total", labels) or 0.0
