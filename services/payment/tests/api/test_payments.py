"""Payment state transitions, reads by owner and admin, and refunds that never exceed the
captured amount."""

import asyncio
import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from retail_kernel.testing.identity import StaticIdentity
from retail_payment.models import FakeProviderObject
from retail_payment.payments import service
from retail_payment.payments.exceptions import IllegalTransition, RefundTooLarge
from retail_payment.testing.factories import auth, authorize, capture, reload, subject


async def run(app: FastAPI, action: str, payment: object, **kwargs: object) -> None:
    operation = getattr(service, action)
    async with app.state.database.transaction() as session:
        await operation(
            session,
            app.state.resources.providers,
            payment.tenant_id,  # type: ignore[attr-defined]
            payment.order_id,  # type: ignore[attr-defined]
            source="test",
            **kwargs,
        )


class TestTransitions:
    async def test_authorize_capture_and_refund_in_full(self, app: FastAPI) -> None:
        payment = await authorize(app, uuid.uuid4(), amount=5000)
        assert payment.status == "AUTHORIZED"
        payment = await capture(app, payment)
        assert (payment.status, payment.captured_amount) == ("CAPTURED", 5000)
        await run(app, "refund_by_order", payment, amount=2000)
        assert (await reload(app, payment.id)).status == "PARTIALLY_REFUNDED"
        await run(app, "refund_by_order", payment, amount=None)
        final = await reload(app, payment.id)
        assert (final.status, final.refunded_amount) == ("REFUNDED", 5000)

    async def test_a_declined_card_fails_the_payment(self, app: FastAPI) -> None:
        payment = await authorize(app, uuid.uuid4(), token="tok_decline")
        assert (payment.status, payment.failure_reason) == ("FAILED", "card_declined")

    async def test_a_card_needing_confirmation_is_pending(self, app: FastAPI) -> None:
        payment = await authorize(app, uuid.uuid4(), token="tok_3ds")
        assert payment.status == "PENDING"

    async def test_an_authorization_can_be_voided_once(self, app: FastAPI) -> None:
        payment = await authorize(app, uuid.uuid4())
        await run(app, "void", payment)
        await run(app, "void", payment)
        assert (await reload(app, payment.id)).status == "VOIDED"

    @pytest.mark.parametrize(
        ("setup", "action"),
        [
            ("captured", "void"),
            ("voided", "capture"),
            ("authorized", "refund_by_order"),
            ("failed", "capture"),
            ("refunded", "refund_by_order"),
        ],
    )
    async def test_illegal_transitions_are_refused(
        self, app: FastAPI, setup: str, action: str
    ) -> None:
        payment = await authorize(
            app, uuid.uuid4(), token="tok_decline" if setup == "failed" else "tok_visa"
        )
        if setup in ("captured", "refunded"):
            payment = await capture(app, payment)
        if setup == "voided":
            await run(app, "void", payment)
        if setup == "refunded":
            await run(app, "refund_by_order", payment, amount=None)
        before = await reload(app, payment.id)
        extra = {"amount": None} if action == "refund_by_order" else {}
        with pytest.raises((IllegalTransition, RefundTooLarge)):
            await run(app, action, payment, **extra)
        assert (await reload(app, payment.id)).status == before.status

    async def test_a_repeated_capture_is_one_provider_call(self, app: FastAPI) -> None:
        payment = await authorize(app, uuid.uuid4())
        await capture(app, payment)
        await capture(app, payment)
        async with app.state.database.transaction() as session:
            calls = await session.scalar(select(func.count()).select_from(FakeProviderObject))
        assert calls == 2  # one authorization, one capture


class TestReads:
    async def test_owners_see_their_payments_and_others_do_not(
        self, app: FastAPI, client: httpx.AsyncClient, identity: StaticIdentity, admin: str
    ) -> None:
        carla = await identity.token("carla")
        mallory = await identity.token("mallory")
        payment = await authorize(app, subject(carla))
        await capture(app, payment)
        own = await client.get(f"/api/v1/payments/{payment.id}", headers=auth(carla))
        assert own.status_code == 200
        assert [entry["action"] for entry in own.json()["history"]] == ["authorize", "capture"]
        assert (
            await client.get(f"/api/v1/payments/{payment.id}", headers=auth(mallory))
        ).status_code == 404
        none = await client.get("/api/v1/payments", headers=auth(mallory))
        assert none.json() == {"items": [], "next_cursor": None}
        listed = await client.get(
            "/api/v1/payments", params={"order_id": str(payment.order_id)}, headers=auth(admin)
        )
        assert [row["id"] for row in listed.json()["items"]] == [str(payment.id)]
        assert (await client.get("/api/v1/payments")).status_code == 401

    async def test_other_tenants_admins_do_not_see_the_payment(
        self, app: FastAPI, client: httpx.AsyncClient, identity: StaticIdentity
    ) -> None:
        payment = await authorize(app, uuid.uuid4())
        stranger = await identity.token("olga", roles=("admin",), tenant="other-shop")
        response = await client.get(f"/api/v1/payments/{payment.id}", headers=auth(stranger))
        assert response.status_code == 404


class TestListing:
    async def test_pages_newest_first_without_gaps(
        self, app: FastAPI, client: httpx.AsyncClient, identity: StaticIdentity
    ) -> None:
        carla = await identity.token("carla")
        made = [await authorize(app, subject(carla)) for _ in range(3)]
        seen: list[str] = []
        cursor: str | None = None
        while True:
            params: dict[str, str | int] = {"limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = (await client.get("/api/v1/payments", params=params, headers=auth(carla))).json()
            seen += [row["id"] for row in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [str(payment.id) for payment in reversed(made)]
        bad = await client.get("/api/v1/payments", params={"cursor": "nope"}, headers=auth(carla))
        assert bad.status_code == 400


class TestRefunds:
    async def test_only_admins_refund(
        self, app: FastAPI, client: httpx.AsyncClient, identity: StaticIdentity
    ) -> None:
        carla = await identity.token("carla")
        payment = await capture(app, await authorize(app, subject(carla)))
        response = await client.post(
            f"/api/v1/payments/{payment.id}/refund", json={"amount": 100}, headers=auth(carla)
        )
        assert response.status_code == 403

    async def test_a_refund_beyond_what_is_left_is_a_conflict(
        self, app: FastAPI, client: httpx.AsyncClient, admin: str
    ) -> None:
        payment = await capture(app, await authorize(app, uuid.uuid4(), amount=1000))
        url = f"/api/v1/payments/{payment.id}/refund"
        assert (
            await client.post(url, json={"amount": 700}, headers=auth(admin))
        ).status_code == 202
        too_much = await client.post(url, json={"amount": 301}, headers=auth(admin))
        assert too_much.status_code == 409
        assert (await reload(app, payment.id)).refunded_amount == 700

    async def test_50_concurrent_partial_refunds_never_exceed_the_capture(
        self, app: FastAPI, client: httpx.AsyncClient, admin: str
    ) -> None:
        payment = await capture(app, await authorize(app, uuid.uuid4(), amount=1000))
        url = f"/api/v1/payments/{payment.id}/refund"
        answers = await asyncio.gather(
            *(client.post(url, json={"amount": 30}, headers=auth(admin)) for _ in range(50))
        )
        codes = [answer.status_code for answer in answers]
        assert codes.count(202) == 33
        assert codes.count(409) == 17
        final = await reload(app, payment.id)
        assert (final.refunded_amount, final.status) == (990, "PARTIALLY_REFUNDED")
