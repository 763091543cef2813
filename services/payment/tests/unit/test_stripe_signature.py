"""Our Stripe signature check against Stripe's rules, and against the official SDK."""

import time

import pytest
import stripe

from retail_payment.webhooks.stripe_signature import SignatureError, compute, header, verify

SECRET = "whsec_test_current"
OLD = "whsec_test_previous"
BODY = b'{"id":"evt_1","object":"event","type":"payment_intent.succeeded"}'


def now() -> int:
    return int(time.time())


class TestVerify:
    def test_a_valid_signature_is_accepted(self) -> None:
        sent = now()
        assert verify(BODY, header(BODY, SECRET, sent), [SECRET], now=sent) == sent

    def test_any_active_secret_verifies_during_a_rotation(self) -> None:
        sent = now()
        assert verify(BODY, header(BODY, OLD, sent), [SECRET, OLD], now=sent) == sent

    def test_a_wrong_secret_is_refused(self) -> None:
        sent = now()
        with pytest.raises(SignatureError):
            verify(BODY, header(BODY, "whsec_other", sent), [SECRET], now=sent)

    def test_one_changed_byte_is_refused(self) -> None:
        sent = now()
        tampered = BODY.replace(b"evt_1", b"evt_2")
        with pytest.raises(SignatureError):
            verify(tampered, header(BODY, SECRET, sent), [SECRET], now=sent)

    def test_a_stale_timestamp_is_refused(self) -> None:
        sent = now() - 301
        with pytest.raises(SignatureError, match="tolerance"):
            verify(BODY, header(BODY, SECRET, sent), [SECRET], now=now())

    def test_a_future_timestamp_is_refused(self) -> None:
        sent = now() + 3600
        with pytest.raises(SignatureError, match="future"):
            verify(BODY, header(BODY, SECRET, sent), [SECRET], now=now())

    @pytest.mark.parametrize("value", [None, "", "v1=abc", "t=abc,v1=def", "t=1,t=2,v1=x"])
    def test_a_missing_or_malformed_header_is_refused(self, value: str | None) -> None:
        with pytest.raises(SignatureError):
            verify(BODY, value, [SECRET], now=now())

    def test_two_v1_values_of_which_one_matches_are_accepted(self) -> None:
        sent = now()
        value = f"t={sent},v1={'0' * 64},v1={compute(BODY, SECRET, sent)},v0=ignored"
        assert verify(BODY, value, [SECRET], now=sent) == sent


class TestAgreesWithTheStripeSdk:
    def test_the_sdk_accepts_what_we_sign(self) -> None:
        event = stripe.Webhook.construct_event(BODY, header(BODY, SECRET, now()), SECRET)
        assert event["id"] == "evt_1"

    def test_we_accept_what_the_sdk_signs(self) -> None:
        sent = now()
        signature = stripe.WebhookSignature._compute_signature(f"{sent}.{BODY.decode()}", SECRET)
        assert verify(BODY, f"t={sent},v1={signature}", [SECRET], now=sent) == sent

    def test_the_sdk_and_we_refuse_the_same_stale_request(self) -> None:
        value = header(BODY, SECRET, now() - 301)
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(BODY, value, SECRET, tolerance=300)
        with pytest.raises(SignatureError):
            verify(BODY, value, [SECRET], now=now())
