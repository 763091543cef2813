"""The Notification API through the ASGI app: templates validated on save, rules per tenant,
preferences, and who may see which message."""

import uuid

import httpx
from fastapi import FastAPI

from retail_contracts.user import UserRegistered
from retail_notification.testing.factories import (
    all_settled,
    auth,
    emit,
    order_event,
    wait_for_messages,
)
from retail_notification.testing.fixtures import Fakes, Person, person
from retail_user.testing.factories import IdentityProvider

TEMPLATES = "/api/v1/notifications/templates"


class TestTemplates:
    async def test_every_default_template_is_listed_and_renders_against_its_sample(
        self, client: httpx.AsyncClient, admin: Person
    ) -> None:
        listed = await client.get(TEMPLATES, headers=auth(admin.token))
        items = listed.json()["items"]
        assert len(items) == 13  # the seeded defaults, platform alerts included
        assert all(item["inherited"] for item in items)
        for item in items:
            body = {k: item[k] for k in ("channel", "locale", "subject", "body")}
            # Saving a default unchanged must pass its own validation.
            saved = await client.put(
                f"{TEMPLATES}/{item['name']}", json=body, headers=auth(admin.token)
            )
            assert saved.status_code == 200, (item["name"], saved.text)

    async def test_a_saved_template_is_used_for_the_next_message(
        self, app: FastAPI, client: httpx.AsyncClient, admin: Person, fakes: Fakes, carol: Person
    ) -> None:
        saved = await client.put(
            f"{TEMPLATES}/order_confirmed",
            json={"channel": "sms", "body": "Merci {{ customer.name }}! {{ order.number }}"},
            headers=auth(admin.token),
        )
        assert saved.status_code == 200, saved.text
        assert saved.json()["inherited"] is False
        read = await client.get(
            f"{TEMPLATES}/order_confirmed", params={"channel": "sms"}, headers=auth(admin.token)
        )
        assert read.json()["body"] == "Merci {{ customer.name }}! {{ order.number }}"
        event = await emit(app, order_event(customer_id=carol.id))
        await wait_for_messages(app, all_settled, event_id=event.id)
        (sms,) = fakes.state.of("twilio")
        assert sms.body["Body"] == f"Merci carol! {event.data['number']}"

    async def test_a_broken_template_is_refused_and_the_old_one_stays(
        self, client: httpx.AsyncClient, admin: Person
    ) -> None:
        for body in (
            "{% if order.number %}unclosed",
            "Hello {{ customer.nickname }}",
            "{{ cycler.__init__.__globals__.os.system('id') }}",
        ):
            refused = await client.put(
                f"{TEMPLATES}/order_confirmed",
                json={"channel": "sms", "body": body},
                headers=auth(admin.token),
            )
            assert refused.status_code == 422, body
            assert refused.headers["content-type"] == "application/problem+json"
        read = await client.get(
            f"{TEMPLATES}/order_confirmed", params={"channel": "sms"}, headers=auth(admin.token)
        )
        assert read.json()["inherited"] is True

    async def test_a_preview_renders_the_sample_and_saves_nothing(
        self, client: httpx.AsyncClient, admin: Person, carol: Person
    ) -> None:
        body = {"channel": "sms", "body": "Thanks {{ customer.name }}: {{ order.number }}"}
        shown = await client.post(
            f"{TEMPLATES}/order_confirmed/preview", json=body, headers=auth(admin.token)
        )
        assert shown.status_code == 200, shown.text
        assert shown.json()["body"].startswith("Thanks ")
        assert "{{" not in shown.json()["body"]
        broken = await client.post(
            f"{TEMPLATES}/order_confirmed/preview",
            json={"channel": "sms", "body": "{{ order.number "},
            headers=auth(admin.token),
        )
        assert broken.status_code == 422
        denied = await client.post(
            f"{TEMPLATES}/order_confirmed/preview", json=body, headers=auth(carol.token)
        )
        assert denied.status_code == 403
        read = await client.get(
            f"{TEMPLATES}/order_confirmed", params={"channel": "sms"}, headers=auth(admin.token)
        )
        assert read.json()["inherited"] is True

    async def test_templates_are_for_admins_of_their_own_tenant(
        self, client: httpx.AsyncClient, admin: Person, carol: Person, identity: IdentityProvider
    ) -> None:
        denied = await client.get(TEMPLATES, headers=auth(carol.token))
        assert denied.status_code == 403
        await client.put(
            f"{TEMPLATES}/welcome",
            json={"channel": "email", "subject": "Hi", "body": "<p>Hi {{ customer.name }}</p>"},
            headers=auth(admin.token),
        )
        other = await person(identity, "olga", roles=("admin",), tenant="acme")
        theirs = await client.get(f"{TEMPLATES}/welcome", headers=auth(other.token))
        assert theirs.json()["inherited"] is True
        assert theirs.json()["subject"] == "Welcome, {{ customer.name }}"
        missing = await client.get(f"{TEMPLATES}/nothing_here", headers=auth(admin.token))
        assert missing.status_code == 404


class TestRules:
    async def test_an_admin_turns_a_rule_off_for_their_tenant_only(
        self, app: FastAPI, client: httpx.AsyncClient, admin: Person
    ) -> None:
        rules = (await client.get("/api/v1/notifications/rules", headers=auth(admin.token))).json()
        assert {r["name"] for r in rules["items"]} == {
            "welcome",
            "password_reset",
            "order_confirmed",
            "order_rejected",
            "order_cancelled",
            "refund_issued",
            "stock_low",
        }
        off = await client.put(
            "/api/v1/notifications/rules/welcome",
            json={"enabled": False},
            headers=auth(admin.token),
        )
        assert off.json()["enabled"] is False
        registered = UserRegistered(
            user_id=uuid.uuid4(), username="zed", email="zed@example.com", full_name=None
        )
        silent = await emit(app, registered)
        heard = await emit(app, registered, tenant_id="acme")
        assert await wait_for_messages(app, lambda ms: len(ms) == 1) != []
        (message,) = await wait_for_messages(app, all_settled)
        assert message.source_event_id == heard.id != silent.id

    async def test_the_welcome_fits_the_account(self, app: FastAPI) -> None:
        said: dict[str, str] = {}
        for roles in (["admin"], ["staff"], ["customer"], []):
            name = roles[0] if roles else "before-roles"
            registered = UserRegistered(
                user_id=uuid.uuid4(),
                username=name,
                email=f"{name}@example.com",
                full_name=None,
                roles=roles,
            )
            event = await emit(app, registered)
            (message,) = await wait_for_messages(
                app, lambda ms: len(ms) == 1 and all_settled(ms), event_id=event.id
            )
            said[name] = message.body
        assert "You administer the shop" in said["admin"]
        assert "You look after the shop" in said["staff"]
        assert "Happy shopping!" in said["customer"]
        assert "Happy shopping!" in said["before-roles"]  # events from before roles: customers
        assert "Happy shopping!" not in said["admin"] + said["staff"]

    async def test_customers_are_not_messaged_on_operator_channels(
        self, client: httpx.AsyncClient, admin: Person
    ) -> None:
        refused = await client.put(
            "/api/v1/notifications/rules/order_confirmed",
            json={"channels": ["email", "slack"]},
            headers=auth(admin.token),
        )
        assert refused.status_code == 422
        unknown = await client.put(
            "/api/v1/notifications/rules/no_such_rule",
            json={"enabled": False},
            headers=auth(admin.token),
        )
        assert unknown.status_code == 404


class TestPreferences:
    async def test_opted_in_until_the_user_says_otherwise(
        self, client: httpx.AsyncClient, carol: Person
    ) -> None:
        url = "/api/v1/notifications/preferences"
        assert (await client.get(url, headers=auth(carol.token))).json() == {
            "email": True,
            "sms": True,
        }
        changed = await client.put(url, json={"sms": False}, headers=auth(carol.token))
        assert changed.json() == {"email": True, "sms": False}
        bad = await client.put(url, json={"fax": True}, headers=auth(carol.token))
        assert bad.status_code == 422


class TestReading:
    async def test_users_see_their_own_messages_and_admins_their_tenants(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        admin: Person,
        carol: Person,
        identity: IdentityProvider,
    ) -> None:
        bob = await person(identity, "bob")
        for customer in (carol, bob):
            event = await emit(app, order_event(customer_id=customer.id))
            await wait_for_messages(app, all_settled, event_id=event.id)
        own = await client.get("/api/v1/notifications", headers=auth(bob.token))
        assert [m["recipient"] for m in own.json()["items"]] == ["bob@example.com"]
        everything = await client.get(
            "/api/v1/notifications", params={"limit": 2}, headers=auth(admin.token)
        )
        assert len(everything.json()["items"]) == 2
        rest = await client.get(
            "/api/v1/notifications",
            params={"cursor": everything.json()["next_cursor"]},
            headers=auth(admin.token),
        )
        assert len(rest.json()["items"]) == 1
        sms_only = await client.get(
            "/api/v1/notifications", params={"channel": "sms"}, headers=auth(admin.token)
        )
        assert [m["recipient"] for m in sms_only.json()["items"]] == ["+4915112345678"]
        carols = [
            m["id"]
            for m in everything.json()["items"] + rest.json()["items"]
            if m["recipient"] != "bob@example.com"
        ]
        stranger = await client.get(f"/api/v1/notifications/{carols[0]}", headers=auth(bob.token))
        assert stranger.status_code == 404
        mine = await client.get(f"/api/v1/notifications/{carols[0]}", headers=auth(carol.token))
        assert mine.status_code == 200
        other = await person(identity, "olga", roles=("admin",), tenant="acme")
        theirs = await client.get("/api/v1/notifications", headers=auth(other.token))
        assert theirs.json()["items"] == []

    async def test_no_token_no_messages(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/notifications")
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
