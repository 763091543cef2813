"""Stripe webhooks: only genuine, fresh, raw-body-signed events are stored, each once, and
none moves a payment backwards."""

import time
import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from retail_payment.models import WebhookEvent
from retail_payment.payments import service
from retail_payment.testing.factories import (
    PREVIOUS_SECRET,
    WEBHOOK_SECRET,
    authorize,
    capture,
    reload,
    signed,
    stripe_event,
)
from retail_payment.testing.stripe_fake import deliveries
from retail_payment.webhooks.stripe_signature import compute

URL = "/api/v1/payments/webhooks/stripe"


async def stored(app: FastAPI) -> int:
    async with app.state.database.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(WebhookEvent)) or 0)


async def post(client: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await client.post(URL, content=body, headers=headers)


class TestSignatures:
    async def test_a_valid_event_is_stored_and_applied(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        payment = await authorize(app, uuid.uuid4(), token="tok_3ds")
        body = stripe_event(
            "payment_intent.amount_capturable_updated", {"id": payment.provider_ref}
        )
        response = await post(client, body, signed(body))
        assert (response.status_code, response.json()) == (200, {"status": "applied"})
        assert (await reload(app, payment.id)).status == "AUTHORIZED"

    async def test_the_previous_secret_still_verifies_during_a_rotation(
        self, client: httpx.AsyncClient
    ) -> None:
        body = stripe_event("payment_intent.created", {"id": "pi_other"})
        response = await post(client, body, signed(body, secret=PREVIOUS_SECRET))
        assert response.json() == {"status": "ignored"}

    @pytest.mark.parametrize(
        "forge",
        ["wrong secret", "one byte changed", "stale", "future", "missing header", "garbage"],
    )
    async def test_a_bad_signature_is_a_400_and_nothing_is_stored(
        self, app: FastAPI, client: httpx.AsyncClient, forge: str
    ) -> None:
        body = stripe_event("payment_intent.succeeded", {"id": "pi_x", "amount_received": 1})
        headers = {
            "wrong secret": signed(body, secret="whsec_attacker"),
            "one byte changed": signed(body.replace(b"pi_x", b"pi_y")),
            "stale": signed(body, at=int(time.time()) - 301),
            "future": signed(body, at=int(time.time()) + 3600),
            "missing header": {"Content-Type": "application/json"},
            "garbage": {"Stripe-Signature": "t=abc,v1=zz"},
        }[forge]
        response = await post(client, body, headers)
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"
        assert await stored(app) == 0

    async def test_two_v1_values_of_which_one_matches_are_accepted(
        self, client: httpx.AsyncClient
    ) -> None:
        body = stripe_event("payment_intent.created", {"id": "pi_other"})
        at = int(time.time())
        value = f"t={at},v1={'0' * 64},v1={compute(body, 'whsec_test_current', at)}"
        response = await post(client, body, {"Stripe-Signature": value})
        assert response.status_code == 200

    async def test_the_raw_body_is_what_is_verified(self, client: httpx.AsyncClient) -> None:
        body = stripe_event("payment_intent.created", {"id": "pi_other"})
        reformatted = body.replace(b'", "', b'","')  # the same JSON, other bytes
        response = await post(client, reformatted, signed(body))
        assert response.status_code == 400


class TestOnce:
    async def test_an_event_stripe_delivers_twice_is_applied_once(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        payment = await authorize(app, uuid.uuid4(), token="tok_3ds")
        twice = deliveries(
            "payment_intent.amount_capturable_updated",
            {"id": payment.provider_ref},
            WEBHOOK_SECRET,
            times=2,
        )
        answers = [(await post(client, body, headers)).json() for body, headers in twice]
        assert answers == [{"status": "applied"}, {"status": "duplicate"}]
        async with app.state.database.transaction() as session:
            history = await service.detail(session, await reload(app, payment.id))
        assert [entry.action for entry in history.history] == ["authorize", "provider:authorized"]

    async def test_a_duplicate_event_id_is_a_200_with_no_second_effect(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        payment = await capture(app, await authorize(app, uuid.uuid4(), amount=1000))
        body = stripe_event(
            "charge.refunded",
            {"id": "ch_1", "payment_intent": payment.provider_ref, "amount_refunded": 400},
            event_id="evt_refund_1",
        )
        first = await post(client, body, signed(body))
        again = await post(client, body, signed(body))
        assert (first.json(), again.json()) == ({"status": "applied"}, {"status": "duplicate"})
        assert again.status_code == 200
        refreshed = await reload(app, payment.id)
        assert (refreshed.status, refreshed.refunded_amount) == ("PARTIALLY_REFUNDED", 400)
        assert await stored(app) == 1

    async def test_out_of_order_events_never_move_a_payment_backwards(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        payment = await authorize(app, uuid.uuid4(), amount=1000)
        ref = payment.provider_ref
        refunded = stripe_event(
            "charge.refunded", {"id": "ch_1", "payment_intent": ref, "amount_refunded": 1000}
        )
        succeeded = stripe_event("payment_intent.succeeded", {"id": ref, "amount_received": 1000})
        authorized = stripe_event("payment_intent.amount_capturable_updated", {"id": ref})
        assert (await post(client, succeeded, signed(succeeded))).json()["status"] == "applied"
        assert (await post(client, refunded, signed(refunded))).json()["status"] == "applied"
        # Late deliveries of earlier states: stored, but the payment stays refunded.
        for late in (succeeded, authorized):
            late_again = late.replace(b'"id": "evt_', b'"id": "evt_late_')
            assert (await post(client, late_again, signed(late_again))).json()["status"] == "stale"
        final = await reload(app, payment.id)
        assert (final.status, final.captured_amount, final.refunded_amount) == (
            "REFUNDED",
            1000,
            1000,
        )
