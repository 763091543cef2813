import asyncio

import httpx
import pytest
from fastapi import FastAPI

from retail_kernel.testing.plugin import ServiceDatabases
from retail_kernel.testing.servers import asgi_client, clear_of_a_window_edge
from retail_user.testing.factories import PASSWORD, admin_token, bearer, login, register


class TestRegister:
    async def test_returns_the_new_customer(self, client: httpx.AsyncClient) -> None:
        created = await register(client, "bob")
        assert created["username"] == "bob"
        assert created["email"] == "bob@example.com"
        assert created["roles"] == ["customer"]

    @pytest.mark.parametrize("taken", ["bob", "BOB"])
    async def test_refuses_a_taken_username_ignoring_case(
        self, client: httpx.AsyncClient, taken: str
    ) -> None:
        await register(client, "bob")
        response = await client.post(
            "/api/v1/users/register",
            json={"username": taken, "email": "other@example.com", "password": PASSWORD},
        )
        assert response.status_code == 409
        assert response.headers["content-type"] == "application/problem+json"
        assert "username" in response.json()["detail"]

    async def test_refuses_a_taken_email_ignoring_case(self, client: httpx.AsyncClient) -> None:
        await register(client, "bob")
        response = await client.post(
            "/api/v1/users/register",
            json={"username": "robert", "email": "BOB@example.com", "password": PASSWORD},
        )
        assert response.status_code == 409
        assert "email" in response.json()["detail"]

    @pytest.mark.parametrize(
        ("password", "reason"),
        [
            ("short", "at least"),
            ("password123", "too common"),
            ("é" * 40, "72 bytes"),
            ("aaaaaaaaaaaa", "too common"),
        ],
    )
    async def test_refuses_a_weak_password(
        self, client: httpx.AsyncClient, password: str, reason: str
    ) -> None:
        response = await client.post(
            "/api/v1/users/register",
            json={"username": "bob", "email": "bob@example.com", "password": password},
        )
        assert response.status_code == 422
        assert reason in response.json()["detail"]

    async def test_refuses_a_bad_email_with_the_field_named(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.post(
            "/api/v1/users/register",
            json={"username": "bob", "email": "not-an-email", "password": PASSWORD},
        )
        assert response.status_code == 422
        problem = response.json()
        assert problem["errors"][0]["loc"] == ["body", "email"]
        assert problem["correlation_id"] == response.headers["x-correlation-id"]

    async def test_malformed_json_is_a_422_problem(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/api/v1/users/register",
            content=b'{"username": ',
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"

    async def test_an_oversized_body_is_refused_with_413(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/api/v1/users/register",
            content=b"{" + b" " * 2_000_000 + b"}",
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 413

    async def test_twenty_concurrent_registrations_of_one_name_create_one_user(
        self, server: str
    ) -> None:
        async def attempt(http: httpx.AsyncClient, n: int) -> int:
            response = await http.post(
                "/api/v1/users/register",
                json={"username": "racer", "email": f"racer{n}@example.com", "password": PASSWORD},
            )
            return response.status_code

        async with httpx.AsyncClient(base_url=server, timeout=30) as http:
            statuses = await asyncio.gather(*(attempt(http, n) for n in range(20)))

        assert sorted(statuses) == [201] + [409] * 19

    async def test_registration_is_rate_limited_per_ip(
        self, retail_db: ServiceDatabases, retail_infra: object
    ) -> None:
        from retail_user.main import create_app  # noqa: PLC0415
        from retail_user.testing.factories import make_user_settings  # noqa: PLC0415

        settings = make_user_settings(
            retail_db.url("user"),
            retail_infra.bootstrap_servers,  # type: ignore[attr-defined]
            register_rate_limit="2/minute",
        )
        app = create_app(settings)
        await clear_of_a_window_edge()
        async with asgi_client(app) as http:
            await register(http, "one")
            await register(http, "two")
            response = await http.post(
                "/api/v1/users/register",
                json={"username": "three", "email": "3@example.com", "password": PASSWORD},
            )
        assert response.status_code == 429
        assert int(response.headers["retry-after"]) > 0


class TestProfile:
    async def test_needs_a_token(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/users/profile")
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"

    async def test_update_changes_only_the_given_fields(self, client: httpx.AsyncClient) -> None:
        await register(client, "carol", full_name="Carol")
        token = (await login(client, "carol"))["access_token"]
        response = await client.patch(
            "/api/v1/users/profile", json={"phone": "+4915112345678"}, headers=bearer(token)
        )
        assert response.status_code == 200
        assert response.json()["phone"] == "+4915112345678"
        assert response.json()["full_name"] == "Carol"

    async def test_update_to_a_taken_email_is_a_conflict(self, client: httpx.AsyncClient) -> None:
        await register(client, "carol")
        await register(client, "dave")
        token = (await login(client, "carol"))["access_token"]
        response = await client.patch(
            "/api/v1/users/profile", json={"email": "dave@example.com"}, headers=bearer(token)
        )
        assert response.status_code == 409
        profile = await client.get("/api/v1/users/profile", headers=bearer(token))
        assert profile.json()["email"] == "carol@example.com"

    async def test_update_refuses_a_bad_phone(self, client: httpx.AsyncClient) -> None:
        await register(client, "carol")
        token = (await login(client, "carol"))["access_token"]
        response = await client.patch(
            "/api/v1/users/profile", json={"phone": "12"}, headers=bearer(token)
        )
        assert response.status_code == 422


class TestChangePassword:
    async def test_new_password_works_and_old_sessions_end(self, client: httpx.AsyncClient) -> None:
        await register(client, "erin")
        tokens = await login(client, "erin")
        response = await client.post(
            "/api/v1/users/change-password",
            json={"current_password": PASSWORD, "new_password": "a much better secret"},
            headers=bearer(tokens["access_token"]),
        )
        assert response.status_code == 204
        await login(client, "erin", "a much better secret")
        refreshed = await client.post(
            "/api/v1/users/token/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert refreshed.status_code == 401

    async def test_a_wrong_current_password_is_401(self, client: httpx.AsyncClient) -> None:
        await register(client, "erin")
        token = (await login(client, "erin"))["access_token"]
        response = await client.post(
            "/api/v1/users/change-password",
            json={"current_password": "not it at all", "new_password": "a much better secret"},
            headers=bearer(token),
        )
        assert response.status_code == 401
        await login(client, "erin")


class TestAdministration:
    async def test_lists_users_a_page_at_a_time_without_gaps(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        token = await admin_token(app, client)
        for n in range(5):
            await register(client, f"user{n}")
        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/api/v1/users", params=params, headers=bearer(token))).json()
            seen += [item["username"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == ["root", "user0", "user1", "user2", "user3", "user4"]

    async def test_filters_by_search_and_role(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        token = await admin_token(app, client)
        await register(client, "frank")
        await register(client, "francine")
        await register(client, "george")
        by_q = await client.get("/api/v1/users", params={"q": "fran"}, headers=bearer(token))
        assert {u["username"] for u in by_q.json()["items"]} == {"frank", "francine"}
        by_role = await client.get("/api/v1/users", params={"role": "admin"}, headers=bearer(token))
        assert [u["username"] for u in by_role.json()["items"]] == ["root"]

    async def test_customers_cannot_list_users(self, client: httpx.AsyncClient) -> None:
        await register(client, "mallory")
        token = (await login(client, "mallory"))["access_token"]
        response = await client.get("/api/v1/users", headers=bearer(token))
        assert response.status_code == 403

    async def test_a_tampered_cursor_is_a_400(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        token = await admin_token(app, client)
        response = await client.get(
            "/api/v1/users", params={"cursor": "%%%not-ours"}, headers=bearer(token)
        )
        assert response.status_code == 400

    async def test_role_change_is_applied_and_announced(
        self, app: FastAPI, client: httpx.AsyncClient, kafka_probe: object
    ) -> None:
        probe = await kafka_probe("retail.user.events")  # type: ignore[operator]
        token = await admin_token(app, client)
        user = await register(client, "harry")
        response = await client.put(
            f"/api/v1/users/{user['id']}/roles", json={"roles": ["staff"]}, headers=bearer(token)
        )
        assert response.status_code == 200
        assert response.json()["roles"] == ["staff"]
        events = await probe.events(count=2, subjects={user["id"]})
        changed = [e for e in events if e["type"] == "retail.user.roles_changed.v1"]
        assert changed[0]["data"]["new_roles"] == ["staff"]
        assert changed[0]["actor"] is not None

    async def test_unknown_role_is_refused(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        token = await admin_token(app, client)
        user = await register(client, "harry")
        response = await client.put(
            f"/api/v1/users/{user['id']}/roles", json={"roles": ["god"]}, headers=bearer(token)
        )
        assert response.status_code == 422

    async def test_admin_cannot_demote_themselves(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        token = await admin_token(app, client)
        me = (await client.get("/api/v1/users/profile", headers=bearer(token))).json()
        response = await client.put(
            f"/api/v1/users/{me['id']}/roles", json={"roles": ["staff"]}, headers=bearer(token)
        )
        assert response.status_code == 409

    async def test_locked_user_cannot_log_in_until_unlocked(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        token = await admin_token(app, client)
        user = await register(client, "ivy")
        assert (
            await client.post(f"/api/v1/users/{user['id']}/lock", headers=bearer(token))
        ).status_code == 204
        locked = await client.post(
            "/api/v1/users/login", json={"username": "ivy", "password": PASSWORD}
        )
        assert locked.status_code == 423
        assert (
            await client.post(f"/api/v1/users/{user['id']}/unlock", headers=bearer(token))
        ).status_code == 204
        await login(client, "ivy")

    async def test_admin_of_another_tenant_sees_404(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        from retail_user.testing.factories import create_admin  # noqa: PLC0415

        await create_admin(app, "otheradmin", tenant="acme")
        other = (await login(client, "otheradmin"))["access_token"]
        user = await register(client, "jane")
        response = await client.post(f"/api/v1/users/{user['id']}/lock", headers=bearer(other))
        assert response.status_code == 404
        listed = await client.get("/api/v1/users", headers=bearer(other))
        assert [u["username"] for u in listed.json()["items"]] == ["otheradmin"]


class TestHostileInput:
    async def test_nul_characters_in_a_body_are_a_422_not_a_500(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.post(
            "/api/v1/users/register",
            json={"username": "bob", "email": "bob@example.com", "password": "pass\x00word-long"},
        )
        assert response.status_code == 422

    async def test_nul_characters_in_a_query_are_a_422(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        token = await admin_token(app, client)
        response = await client.get("/api/v1/users", params={"q": "a\x00b"}, headers=bearer(token))
        assert response.status_code == 422

    async def test_unknown_fields_are_refused(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/api/v1/users/register",
            json={
                "username": "bob",
                "email": "bob@example.com",
                "password": PASSWORD,
                "roles": ["admin"],
            },
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["body", "roles"]


class TestContact:
    async def _service_token(self, app: FastAPI, client: httpx.AsyncClient) -> str:
        from retail_user.tokens import service as tokens  # noqa: PLC0415

        async with app.state.database.transaction() as session:
            secret = await tokens.create_service_client(session, "notification", "default")
        response = await client.post(
            "/api/v1/users/token/service",
            json={"client_id": "notification", "client_secret": secret},
        )
        return str(response.json()["access_token"])

    async def test_a_service_reads_how_to_reach_a_user_of_the_tenant_it_names(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        user = await register(client, "nina", full_name="Nina Simone")
        nina = (await login(client, "nina"))["access_token"]
        await client.patch(
            "/api/v1/users/profile", json={"phone": "+4915112345678"}, headers=bearer(nina)
        )
        token = await self._service_token(app, client)
        url = f"/api/v1/users/{user['id']}/contact"
        found = await client.get(url, params={"tenant_id": "default"}, headers=bearer(token))
        assert found.json() == {
            "id": user["id"],
            "tenant_id": "default",
            "username": "nina",
            "email": "nina@example.com",
            "full_name": "Nina Simone",
            "phone": "+4915112345678",
        }
        elsewhere = await client.get(url, params={"tenant_id": "acme"}, headers=bearer(token))
        assert elsewhere.status_code == 404
        unnamed = await client.get(url, headers=bearer(token))
        assert unnamed.status_code == 422

    async def test_customers_cannot_read_contacts(self, client: httpx.AsyncClient) -> None:
        user = await register(client, "oscar")
        await register(client, "mallory")
        token = (await login(client, "mallory"))["access_token"]
        response = await client.get(f"/api/v1/users/{user['id']}/contact", headers=bearer(token))
        assert response.status_code == 403
