"""A real OTLP/HTTP trace receiver on loopback for tests: it decodes each export
(``ExportTraceServiceRequest``, protobuf) as a collector would, and keeps the spans."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from fastapi import FastAPI, Request, Response
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import KeyValue

PROTOBUF = "application/x-protobuf"


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    kind: int
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict[str, str]


@dataclass
class Collector:
    spans: list[ReceivedSpan] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/traces")
        async def export(request: Request) -> Response:
            assert request.headers["content-type"] == PROTOBUF
            export = ExportTraceServiceRequest.FromString(await request.body())
            for resource in export.resource_spans:
                service = _attributes(resource.resource.attributes)["service.name"]
                for scope in resource.scope_spans:
                    self.spans += [
                        ReceivedSpan(
                            service,
                            s.name,
                            s.kind,
                            s.trace_id.hex(),
                            s.span_id.hex(),
                            s.parent_span_id.hex(),
                            _attributes(s.attributes),
                        )
                        for s in scope.spans
                    ]
            body = ExportTraceServiceResponse().SerializeToString()
            return Response(body, media_type=PROTOBUF)

        return app

    def of(self, service: str, prefix: str = "") -> list[ReceivedSpan]:
        return [
            s for s in self.spans if s.service == service and s.name.startswith(prefix)
        ]


def _attributes(pairs: Iterable[KeyValue]) -> dict[str, str]:
    """Every value as text: the test looks for personal data in any of them."""
    return {
        p.key: str(getattr(p.value, p.value.WhichOneof("value") or "")) for p in pairs
    }
