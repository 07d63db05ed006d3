"""The AsyncAPI 3 document of what Lantern publishes on Kafka, built from the event
contracts: a channel per stream category (one topic each), a message per event type
and version with its JSON Schema payload, the CloudEvents headers, and the key.

It is a pure function of the registered contracts (plus the schemas of older versions
kept in the snapshot, events/contracts/schemas.snapshot.json), so ``/asyncapi.json``,
``lantern events asyncapi`` and the tests all see the same document, and its
``info.version`` changes exactly when a payload schema does.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from events.cloudevents import HEADERS, OPTIONAL_HEADERS, schema_id
from events.compatibility import schema_key
from events.contracts import CATEGORIES
from events.registry import Event, event_types
from events.streams import Category

ASYNCAPI = "3.0.0"
KAFKA_BINDING = "0.5.0"
SNAPSHOT = Path(__file__).parent / "contracts" / "schemas.snapshot.json"
"""Every payload schema ever published, ``Type.vN`` -> schema: the guard against
breaking changes (events/compatibility.py) and the source of older versions'
schemas. Updated by ``lantern events asyncapi --update-snapshot``."""
_COMPONENT_NAME = re.compile(r"[^A-Za-z0-9._-]")
Json = dict[str, Any]


def contract_types() -> dict[str, type[Event]]:
    """The registered types Lantern publishes (not those tests define)."""
    return {n: c for n, c in event_types().items() if c.__module__ in CATEGORIES}


def event_schema(cls: type[Event]) -> Json:
    """One payload's JSON Schema, as ``lantern events schema`` prints it."""
    return {
        **cls.model_json_schema(),
        "$id": schema_id(cls.type_name, cls.schema_version),
        "x-schema-version": cls.schema_version,
    }


def current_schemas(types: Mapping[str, type[Event]]) -> dict[str, Json]:
    """``Type.vN`` -> schema, for the version each class is at now."""
    return {
        schema_key(name, cls.schema_version): event_schema(cls)
        for name, cls in sorted(types.items())
    }


def read_snapshot(path: Path | None = None) -> dict[str, Json]:
    data: dict[str, Json] = json.loads((path or SNAPSHOT).read_text())
    return data


def snapshot_text(schemas: Mapping[str, Json]) -> str:
    return json.dumps(dict(sorted(schemas.items())), indent=2, sort_keys=True) + "\n"


@cache
def published_document(topic_prefix: str) -> Json:
    """The document of the running code, as ``/asyncapi.json`` serves it."""
    return asyncapi_document(
        contract_types(), topic_prefix=topic_prefix, earlier=read_snapshot()
    )


def asyncapi_document(
    types: Mapping[str, type[Event]],
    *,
    topic_prefix: str = "lantern.",
    earlier: Mapping[str, Json] | None = None,
) -> Json:
    """``earlier`` holds the schemas of older versions (``Type.vN``), which may still
    be on the topics: Kafka carries payloads as stored, never upcast."""
    schemas: Json = {"CloudEventsHeaders": _headers_schema()}
    messages: Json = {}
    channels: Json = {}
    for name, cls in sorted(types.items()):
        category = CATEGORIES[cls.__module__]
        channel = channels.setdefault(category.value, _channel(category, topic_prefix))
        for version in range(1, cls.schema_version + 1):
            key = schema_key(name, version)
            known = (
                event_schema(cls)
                if version == cls.schema_version
                else (earlier or {}).get(key)
            )
            schemas.update(_components(key, known, cls, version))
            messages[key] = _message(cls, version, category, key)
            channel["messages"][key] = {"$ref": f"#/components/messages/{key}"}
    contracts = {"messages": messages, "schemas": schemas}
    return {
        "asyncapi": ASYNCAPI,
        "info": _info(types, contracts),
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": {
            f"publish_{name}": {
                "action": "send",
                "title": f"Lantern publishes to {channel['address']}",
                "channel": {"$ref": f"#/channels/{name}"},
                "messages": [
                    {"$ref": f"#/channels/{name}/messages/{key}"}
                    for key in channel["messages"]
                ],
            }
            for name, channel in channels.items()
        },
        "components": {
            **contracts,
            "correlationIds": {
                "lantern": {
                    "description": "Ties together everything that followed from"
                    " one request",
                    "location": "$message.header#/ce_correlationid",
                }
            },
        },
    }


def _info(types: Mapping[str, type[Event]], contracts: Json) -> Json:
    digest = hashlib.sha256(
        json.dumps(contracts, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    return {
        "title": "Lantern events",
        "version": f"contracts-{digest[:16]}",
        "description": (
            "The events Lantern publishes on Kafka, one topic per stream category,"
            " as CloudEvents 1.0 in binary mode (attributes in `ce_` headers, the"
            " payload as the JSON value). Delivery is at least once: dedupe on"
            " `ce_id`. Order holds within a stream (the key), not across streams."
            " `info.version` is a digest of the payload schemas: it changes when a"
            " contract does. See docs/integrators.md."
        ),
        "x-lantern-contracts": sorted(
            f"{name}@v{cls.schema_version}" for name, cls in types.items()
        ),
    }


def _channel(category: Category, topic_prefix: str) -> Json:
    address = f"{topic_prefix}{category.value}"
    return {
        "address": address,
        "title": address,
        "description": (
            f"Every event of the `{category.value}-<id>` streams. The Kafka key is"
            " the stream id, so all events of one stream go to one partition, in"
            " `ce_streamversion` order; there is no order across streams (merge by"
            " `ce_position` if you need the store's global order). New types and"
            " versions can appear: skip the `ce_type`s you do not handle."
        ),
        "messages": {},
        "bindings": {"kafka": {"topic": address, "bindingVersion": KAFKA_BINDING}},
    }


def _message(cls: type[Event], version: int, category: Category, key: str) -> Json:
    current = version == cls.schema_version
    summary = (cls.__doc__ or "").strip().split("\n\n", 1)[0]
    return {
        "name": cls.type_name,
        "title": f"{cls.type_name} v{version}",
        "summary": " ".join(summary.split()) or f"{cls.type_name} v{version}",
        "description": (
            "The current version."
            if current
            else f"An older version, still on the topic for events recorded before"
            f" v{version + 1}; Lantern reads it through"
            f" `{cls.__name__}.upcast_v{version}_v{version + 1}`."
        ),
        "contentType": "application/json",
        "headers": _message_headers(cls.type_name, version),
        "payload": {"$ref": f"#/components/schemas/{key}"},
        "correlationId": {"$ref": "#/components/correlationIds/lantern"},
        "bindings": {
            "kafka": {
                "key": {
                    "type": "string",
                    "pattern": f"^{category.value}-",
                    "description": "The stream id: one stream, one partition, in order",
                },
                "bindingVersion": KAFKA_BINDING,
            }
        },
    }


def _headers_schema() -> Json:
    return {
        "type": "object",
        "description": "CloudEvents 1.0 attributes (Kafka protocol binding, binary"
        " mode) and Lantern's extensions; every value is a UTF-8 string",
        "properties": {
            name: {"type": "string", "description": text}
            for name, text in HEADERS.items()
        },
        "required": [name for name in HEADERS if name not in OPTIONAL_HEADERS],
    }


def _message_headers(type_name: str, version: int) -> Json:
    return {
        "allOf": [
            {"$ref": "#/components/schemas/CloudEventsHeaders"},
            {
                "type": "object",
                "properties": {
                    "ce_type": {"const": type_name},
                    "ce_schemaversion": {"const": str(version)},
                    "ce_dataschema": {"const": schema_id(type_name, version)},
                },
            },
        ]
    }


def _components(key: str, schema: Json | None, cls: type[Event], version: int) -> Json:
    """The payload under ``key`` and its ``$defs`` beside it as ``key.Name``: inside
    an AsyncAPI document ``#/$defs/...`` would resolve against the document's root."""
    if schema is None:
        return {
            key: {
                "type": "object",
                "description": f"{cls.type_name} v{version}: its schema was not"
                " kept; see the upcaster named in the message",
            }
        }
    body = {k: v for k, v in schema.items() if k not in ("$id", "x-schema-version")}
    defs = body.pop("$defs", {})
    found = {key: _rehome(body, key)}
    found.update(
        {f"{key}.{_component(name)}": _rehome(d, key) for name, d in defs.items()}
    )
    return found


def _rehome(node: Any, key: str) -> Any:
    if isinstance(node, dict):
        return {
            k: (
                f"#/components/schemas/{key}.{_component(v.rsplit('/', 1)[-1])}"
                if k == "$ref" and isinstance(v, str) and v.startswith("#/$defs/")
                else _rehome(v, key)
            )
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rehome(item, key) for item in node]
    return node


def _component(name: str) -> str:
    return _COMPONENT_NAME.sub("_", name)
