"""The audit log on the real broker and database: every event once, in order, secrets
redacted, scoped by tenant, and impossible to change."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from retail_audit.testing.factories import auth
from retail_contracts.envelope import CloudEvent, EventData
from retail_contracts.inventory import StockAdjusted
from retail_contracts.user import PasswordResetRequested, UserRegistered
from retail_kernel.events import build_event
from retail_kernel.testing.identity import StaticIdentity
from retail_kernel.testing.kafka import resend
from retail_kernel.testing.waiting import eventually_async

EVENTS = "/api/v1/audit/events"


async def listed(
    client: httpx.AsyncClient, token: str, count: int, **params: Any
) -> list[dict[str, Any]]:
    """The events the log lists with these filters, once there are ``count`` of them."""

    async def enough() -> list[dict[str, Any]] | None:
        response = await client.get(EVENTS, params=params, headers=auth(token))
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items if len(items) >= count else None

    return await eventually_async(enough, f"{count} events in the log", timeout=30, every=0.1)


async def publish(
    producer: AIOKafkaProducer, data: EventData, subject: str, tenant_id: str = "default"
) -> CloudEvent:
    """An event as a service's outbox sends it: the subject is the aggregate's id."""
    event = build_event(data, source="retail/test", subject=subject, tenant_id=tenant_id)
    await resend(producer, event, key=subject, topic=data.topic)
    return event


def registered(username: str) -> UserRegistered:
    return UserRegistered(
        user_id=uuid.uuid4(), username=username, email=f"{username}@example.com", full_name=None
    )


class TestAuditLog:
    async def test_every_event_once_in_arrival_order_with_its_envelope(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        kafka_producer: AIOKafkaProducer,
        identity: StaticIdentity,
    ) -> None:
        admin = await identity.token("root", roles=("admin",))
        facts = [registered(f"u{n}") for n in range(3)]
        sent = [await publish(kafka_producer, fact, str(fact.user_id)) for fact in facts]
        await resend(kafka_producer, sent[0], key="again", topic=facts[0].topic)
        subjects = [str(fact.user_id) for fact in facts]
        found = [(await listed(client, admin, 1, subject=subject))[0]["id"] for subject in subjects]
        assert found == [str(event.id) for event in sent]
        ours = [
            event
            for event in await listed(client, admin, 3, type="retail.user.registered.v1", limit=100)
            if event["id"] in found
        ]
        assert [event["id"] for event in ours] == found  # arrival order, each once
        assert ours[0]["data"]["username"] == "u0"
        assert ours[0]["tenant_id"] == "default"
        assert ours[0]["source"] == "retail/test"

    async def test_a_reset_token_is_never_kept(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        kafka_producer: AIOKafkaProducer,
        identity: StaticIdentity,
    ) -> None:
        admin = await identity.token("root", roles=("admin",))
        user = uuid.uuid4()
        fact = PasswordResetRequested(
            user_id=user,
            email="x@example.com",
            username="x",
            reset_token="s3cr3t-token",
            reset_url="https://shop.test/reset?token=s3cr3t-token",
            expires_in_seconds=1800,
        )
        await publish(kafka_producer, fact, str(user))
        (event,) = await listed(client, admin, 1, subject=str(user))
        assert event["data"]["reset_token"] == "[redacted]"
        assert "s3cr3t" not in str(event)
        assert event["data"]["email"] == "x@example.com"

    async def test_tenants_read_their_own_and_operators_choose(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        kafka_producer: AIOKafkaProducer,
        identity: StaticIdentity,
    ) -> None:
        operator = await identity.token("root", roles=("admin",))
        acme_admin = await identity.token("olga", roles=("admin",), tenant="acme")
        customer = await identity.token("carl")
        sku = f"SKU-{uuid.uuid4().hex[:8].upper()}"
        for tenant in ("acme", "default"):
            adjusted = StockAdjusted(
                tenant_id=tenant, sku=sku, warehouse="W1", delta=5, reason="receipt", on_hand=5
            )
            await publish(kafka_producer, adjusted, sku, tenant_id=tenant)
        everywhere = await listed(client, operator, 2, subject=sku)
        assert sorted(event["tenant_id"] for event in everywhere) == ["acme", "default"]
        (chosen,) = await listed(client, operator, 1, subject=sku, tenant="acme")
        assert chosen["tenant_id"] == "acme"
        theirs = await listed(client, acme_admin, 1, type="retail.inventory.stock_adjusted.v1")
        assert {event["tenant_id"] for event in theirs} == {"acme"}
        peek = await client.get(EVENTS, params={"tenant": "default"}, headers=auth(acme_admin))
        assert peek.status_code == 403
        assert (await client.get(EVENTS, headers=auth(customer))).status_code == 403
        since = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
        future = await client.get(EVENTS, params={"since": since}, headers=auth(operator))
        assert future.json()["items"] == []

    async def test_pages_follow_on_without_gaps(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        kafka_producer: AIOKafkaProducer,
        identity: StaticIdentity,
    ) -> None:
        admin = await identity.token("root", roles=("admin",))
        facts = [registered(f"p{n}") for n in range(5)]
        for fact in facts:
            await publish(kafka_producer, fact, str(fact.user_id))
        wanted = {str(fact.user_id) for fact in facts}
        await listed(client, admin, 5, type="retail.user.registered.v1", limit=100)
        seen: list[str] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"type": "retail.user.registered.v1", "limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = (await client.get(EVENTS, params=params, headers=auth(admin))).json()
            seen += [event["subject"] for event in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert [s for s in seen if s in wanted] == [str(fact.user_id) for fact in facts]
        assert len(seen) == len(set(seen))


class TestAppendOnly:
    async def test_the_database_refuses_changes_and_removals(
        self, app: FastAPI, client: httpx.AsyncClient, kafka_producer: AIOKafkaProducer,
        identity: StaticIdentity,
    ) -> None:  # fmt: skip
        admin = await identity.token("root", roles=("admin",))
        fact = registered("keep")
        await publish(kafka_producer, fact, str(fact.user_id))
        await listed(client, admin, 1, subject=str(fact.user_id))
        for statement in (
            "UPDATE audit_events SET type = 'forged'",
            "DELETE FROM audit_events",
            "TRUNCATE audit_events",
        ):
            with pytest.raises(DBAPIError, match="append-only"):
                async with app.state.database.transaction() as session:
                    await session.execute(text(statement))
        (event,) = await listed(client, admin, 1, subject=str(fact.user_id))
        assert event["type"] == "retail.user.registered.v1"

    async def test_the_api_has_no_way_to_change_an_event(
        self, app: FastAPI, client: httpx.AsyncClient, identity: StaticIdentity
    ) -> None:
        admin = await identity.token("root", roles=("admin",))
        for method in ("PUT", "PATCH", "DELETE", "POST"):
            response = await client.request(method, EVENTS, headers=auth(admin))
            assert response.status_code == 405
