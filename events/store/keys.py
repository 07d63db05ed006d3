"""Crypto-shredding: each personal field (events/personal.py) is stored sealed with
its subject's key (AES-GCM, 256-bit), and erasure destroys the key, so the log
stays append-only and immutable while what it says of the child can no longer be
read by anyone: not by a projection rebuilt by replay, an export, a page, a Kafka
record published afterwards nor a log line.

A sealed field is stored as ``{"enc": "v1", "kid": subject, "n": nonce, "c":
ciphertext, "e": erased}`` (nonce and ciphertext base64, the subject as associated
data); ``e`` is what the field reads as once the key is gone, chosen when sealed so
the event still validates (``erased_values``), and the reader needs to know no
event type. Keys are written under the append lock, in the transaction that
appends the events they seal; reads take them in one query per page of events
that holds any sealed field.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Executable

from events.envelope import utcnow
from events.personal import Path, child_of, erased_values, personal_paths, subject_of
from events.registry import UnknownEventTypeError, event_class
from events.store.tables import subject_keys

MARK = '"enc"'
"""In the stored text of a payload with a sealed field (a text field's own quotes
are escaped): the others are passed by without being parsed."""
VERSION = "v1"

KEYS = select(subject_keys.c.subject, subject_keys.c.key).where(
    subject_keys.c.subject.in_(bindparam("subjects", expanding=True))
)
NEW_KEY = insert(subject_keys)
REKEY = (
    update(subject_keys)
    .where(subject_keys.c.subject == bindparam("s"))
    .values(key=bindparam("k"))
)
LINK = (
    update(subject_keys)
    .where(
        subject_keys.c.subject == bindparam("s"), subject_keys.c.la_child_id.is_(None)
    )
    .values(la_child_id=bindparam("child"))
)

Select = Callable[[Executable, Mapping[str, Any]], Awaitable[Sequence[Any]]]


# --- writing: in the append transaction ------------------------------------------


def seal_rows(conn: Connection, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows as they are to be stored: each personal field sealed with its
    subject's key, made (or made anew after an erasure) here when it has none;
    each episode's key linked to the child its events name."""
    work: list[tuple[int, str, tuple[Path, ...], Mapping[str, Any]]] = []
    links: dict[str, str] = {}
    for i, row in enumerate(rows):
        data = row["data"]
        subject = subject_of(data)
        if subject is None:
            continue
        if child := child_of(data):
            links.setdefault(subject, child)
        try:
            paths = personal_paths(event_class(row["type"]))
        except UnknownEventTypeError:
            continue
        if paths:
            work.append((i, subject, paths, data))
    if not work and not links:
        return list(rows)
    keys = _keys_for(conn, {s for _, s, _, _ in work}, set(links))
    if links:
        conn.execute(LINK, [{"s": s, "child": c} for s, c in links.items()])
    sealed = list(rows)
    for i, subject, paths, data in work:
        cls = event_class(rows[i]["type"])
        erased = erased_values(cls)
        out = _copy(data)
        for path in paths:
            _seal_at(out, path, subject, keys[subject], erased[path])
        sealed[i] = {**rows[i], "data": out}
    return sealed


def _keys_for(
    conn: Connection, sealing: set[str], linking: set[str]
) -> dict[str, bytes]:
    """A live key for each subject ``sealing`` needs; a row (maybe keyless) for each
    one ``linking`` names, so its link is kept."""
    wanted = sealing | linking
    found = dict(conn.execute(KEYS, {"subjects": list(wanted)}).all())
    now = utcnow()
    new = [s for s in wanted if s not in found]
    made = {s: AESGCM.generate_key(bit_length=256) for s in new if s in sealing}
    if new:
        conn.execute(
            NEW_KEY,
            [{"subject": s, "la_child_id": None, "key": made.get(s),
              "created_at": now, "erased_at": None, "reason": None} for s in new],
        )  # fmt: skip
    rekeyed = {
        s: AESGCM.generate_key(bit_length=256)
        for s in sealing
        if s in found and found[s] is None
    }  # erased, and now new facts: old ciphertexts stay unreadable under a new key
    if rekeyed:
        conn.execute(REKEY, [{"s": s, "k": k} for s, k in rekeyed.items()])
    return {**{s: k for s, k in found.items() if k is not None}, **made, **rekeyed}


def _copy(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _copy(v) if isinstance(v, Mapping) else v for k, v in data.items()}


def _seal_at(
    data: dict[str, Any], path: Path, subject: str, key: bytes, erased: Any
) -> None:
    holder: Any = data
    for step in path[:-1]:
        holder = holder.get(step)
        if not isinstance(holder, dict):
            return
    value = holder.get(path[-1])
    if value is None:
        return
    holder[path[-1]] = seal(
        value, subject, key, erased(value) if callable(erased) else erased
    )


def seal(value: Any, subject: str, key: bytes, erased: Any) -> dict[str, Any]:
    nonce = os.urandom(12)
    plain = json.dumps(value).encode()
    cipher = AESGCM(key).encrypt(nonce, plain, subject.encode())
    return {
        "enc": VERSION,
        "kid": subject,
        "n": base64.b64encode(nonce).decode(),
        "c": base64.b64encode(cipher).decode(),
        "e": erased,
    }


# --- reading ---------------------------------------------------------------------


def is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and value.get("enc") == VERSION and "kid" in value


def open_value(sealed: Mapping[str, Any], keys: Mapping[str, bytes | None]) -> Any:
    """The value, or what it reads as erased: its key destroyed, or replaced since
    (the tag then fails: a ciphertext is never read with another key)."""
    key = keys.get(sealed["kid"])
    if key is None:
        return sealed["e"]
    try:
        plain = AESGCM(key).decrypt(
            base64.b64decode(sealed["n"]),
            base64.b64decode(sealed["c"]),
            str(sealed["kid"]).encode(),
        )
    except InvalidTag:
        return sealed["e"]
    return json.loads(plain)


def subjects_in(value: Any, into: set[str]) -> set[str]:
    if is_sealed(value):
        into.add(value["kid"])
    elif isinstance(value, dict):
        for v in value.values():
            subjects_in(v, into)
    elif isinstance(value, list):
        for v in value:
            subjects_in(v, into)
    return into


def opened(value: Any, keys: Mapping[str, bytes | None]) -> Any:
    if is_sealed(value):
        return open_value(value, keys)
    if isinstance(value, dict):
        return {k: opened(v, keys) for k, v in value.items()}
    if isinstance(value, list):
        return [opened(v, keys) for v in value]
    return value


async def open_texts(select_rows: Select, texts: Iterable[str]) -> dict[str, str]:
    """Each stored payload text that holds a sealed field, as it reads opened;
    the others are left out (read as they are)."""
    parsed = {t: json.loads(t) for t in texts if MARK in t}
    if not parsed:
        return {}
    subjects: set[str] = set()
    for data in parsed.values():
        subjects_in(data, subjects)
    keys: dict[str, bytes | None] = dict.fromkeys(subjects)
    if subjects:
        rows = await select_rows(KEYS, {"subjects": sorted(subjects)})
        keys.update({row[0]: row[1] for row in rows})
    return {t: json.dumps(opened(data, keys)) for t, data in parsed.items()}


# --- erasure ---------------------------------------------------------------------


def erasable(*, la_child_id: str | None, episode_id: str | None) -> Any:
    """Which keys an erasure destroys: the child's own and every episode's linked
    to it; or one episode's (a report made in error, its child never matched)."""
    if la_child_id is not None:
        return or_(
            subject_keys.c.subject == f"child:{la_child_id}",
            subject_keys.c.la_child_id == la_child_id,
        )
    return subject_keys.c.subject == f"episode:{episode_id}"


def erase_keys(
    conn: Connection,
    *,
    reason: str,
    la_child_id: str | None = None,
    episode_id: str | None = None,
) -> list[str]:
    """Destroy the keys (in the caller's transaction); the subjects erased now."""
    if (la_child_id is None) == (episode_id is None):
        raise ValueError("erase a child or an episode")
    which = erasable(la_child_id=la_child_id, episode_id=episode_id)
    live = which & subject_keys.c.key.is_not(None)
    subjects = sorted(conn.scalars(select(subject_keys.c.subject).where(live)))
    if subjects:
        conn.execute(
            update(subject_keys)
            .where(subject_keys.c.subject.in_(subjects))
            .values(key=None, erased_at=utcnow(), reason=reason)
        )
    return subjects
