"""The webhook signature scheme, from the receiver's side: what verifies and what
must not."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from services.notifier.channels.webhook import sign, verify_signature

SECRET = "s3cret-for-tests-only-0123456789abcdef"
BODY = b'{"alert_id":"7d0c","kind":"alert","subject":"s","body":"b"}'
T = 1_767_225_600  # 2026-01-01T00:00:00Z


class TestRoundTrip:
    def test_a_signed_body_verifies(self):
        header = sign(SECRET, BODY, timestamp=T)
        assert verify_signature(SECRET, header, BODY, now=T + 1)

    def test_the_header_is_timestamp_and_hmac_of_timestamp_dot_body(self):
        expected = hmac.new(
            SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256
        ).hexdigest()
        assert sign(SECRET, BODY, timestamp=T) == f"t={T},v1={expected}"

    def test_bytes_and_str_secrets_are_the_same_key(self):
        header = sign(SECRET.encode(), BODY, timestamp=T)
        assert verify_signature(SECRET, header, BODY, now=T)

    def test_any_of_several_signatures_may_match_during_key_rotation(self):
        old = sign("the-old-secret-0123456789abcdef01", BODY, timestamp=T)
        new = sign(SECRET, BODY, timestamp=T)
        both = f"{new},{old.split(',')[1]}"
        assert verify_signature("the-old-secret-0123456789abcdef01", both, BODY, now=T)
        assert verify_signature(SECRET, both, BODY, now=T)


class TestRefused:
    def test_a_tampered_body(self):
        header = sign(SECRET, BODY, timestamp=T)
        tampered = BODY.replace(b'"kind":"alert"', b'"kind":"closed"')
        assert not verify_signature(SECRET, header, tampered, now=T)

    def test_a_re_serialised_body(self):
        header = sign(SECRET, BODY, timestamp=T)
        assert not verify_signature(SECRET, header, BODY.replace(b":", b": "), now=T)

    def test_the_wrong_secret(self):
        header = sign(SECRET, BODY, timestamp=T)
        assert not verify_signature(
            "another-secret-0123456789abcdef", header, BODY, now=T
        )

    @pytest.mark.parametrize("age", [301, -301, 86_400], ids=["stale", "future", "day"])
    def test_a_timestamp_outside_the_tolerance(self, age: int):
        header = sign(SECRET, BODY, timestamp=T)
        assert not verify_signature(SECRET, header, BODY, now=T + age)

    def test_a_replayed_timestamp_with_a_new_signature_still_needs_the_secret(self):
        header = sign(SECRET, BODY, timestamp=T)
        forged = header.replace(f"t={T}", f"t={T + 600}")
        assert not verify_signature(SECRET, forged, BODY, now=T + 600)

    def test_the_tolerance_is_the_receivers_choice(self):
        header = sign(SECRET, BODY, timestamp=T)
        assert verify_signature(SECRET, header, BODY, tolerance_s=3600, now=T + 900)
        assert not verify_signature(SECRET, header, BODY, tolerance_s=60, now=T + 90)

    @pytest.mark.parametrize(
        "header",
        [
            None,
            "",
            "v1=abc",
            f"t={T}",
            f"t=soon,v1={'0' * 64}",
            "garbage",
            f"t={T},v1=",
        ],
    )
    def test_a_malformed_header(self, header: str | None):
        assert not verify_signature(SECRET, header, BODY, now=T)
