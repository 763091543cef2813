import httpx

from retail_user.testing.factories import bearer, login, register


async def test_register_login_and_read_profile(client: httpx.AsyncClient) -> None:
    created = await register(client, "alice", full_name="Alice Liddell")
    tokens = await login(client, "alice")

    response = await client.get("/api/v1/users/profile", headers=bearer(tokens["access_token"]))

    assert response.status_code == 200
    profile = response.json()
    assert profile["id"] == created["id"]
    assert profile["full_name"] == "Alice Liddell"
    assert profile["roles"] == ["customer"]
    assert profile["tenant_id"] == "default"
