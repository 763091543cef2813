"""The test identity's tokens pass the kernel's verifier exactly as the User service's do."""

import httpx
import pytest

from retail_kernel.auth import HttpKeySource, Principal, TokenVerifier
from retail_kernel.errors import Unauthorized
from retail_kernel.testing.identity import AUDIENCE, ISSUER, StaticIdentity, static_identity


async def verified(identity: StaticIdentity, token: str) -> Principal:
    async with httpx.AsyncClient() as http:
        verifier = TokenVerifier(
            HttpKeySource(identity.jwks_url, http), issuer=ISSUER, audience=AUDIENCE
        )
        return await verifier.verify(token)


async def test_a_user_token_verifies_against_the_served_jwks() -> None:
    with static_identity() as identity:
        token = await identity.token("stella", roles=("staff",), tenant="acme")
        principal = await verified(identity, token)
    assert principal.subject == identity.user_id("stella", "acme")
    assert principal.roles == {"staff"}
    assert principal.tenant_id == "acme"


async def test_the_same_name_is_the_same_user_only_in_the_same_tenant() -> None:
    assert StaticIdentity.user_id("carol") == StaticIdentity.user_id("carol", "default")
    assert StaticIdentity.user_id("carol") != StaticIdentity.user_id("carol", "acme")


async def test_a_service_token_is_a_service_client() -> None:
    with static_identity() as identity:
        principal = await verified(identity, await identity.service_token("order"))
    assert principal.subject == "service:order"
    assert principal.roles == {"service"}


async def test_a_token_of_another_key_is_refused() -> None:
    with static_identity() as served, static_identity() as other, pytest.raises(Unauthorized):
        await verified(served, other.user_token("mallory", roles=("admin",)))
