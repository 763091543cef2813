"""Kernel pieces that need no infrastructure."""

import json
import time
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import SettingsConfigDict

from retail_kernel.context import accept_correlation_id
from retail_kernel.errors import BadRequest
from retail_kernel.pagination import decode_cursor, encode_cursor
from retail_kernel.schemas import InputModel
from retail_kernel.settings import DEV_SECRET_PREFIX, BaseServiceSettings

DATABASE = "postgresql+asyncpg://demo@db.internal/demo"


class DemoSettings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RETAIL_DEMO_", extra="ignore")
    service_name: ClassVar[str] = "demo"

    signing_secret: SecretStr = SecretStr(f"{DEV_SECRET_PREFIX}demo")


class TestSettings:
    def test_reads_its_own_prefix(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("RETAIL_DEMO_PORT", "9100")
        assert DemoSettings().port == 9100

    def test_reads_a_secret_from_a_file(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        secret = tmp_path / "secret"
        secret.write_text("from-a-file\n")
        monkeypatch.setenv("RETAIL_DEMO_SIGNING_SECRET_FILE", str(secret))
        assert DemoSettings().signing_secret.get_secret_value() == "from-a-file"

    def test_refuses_a_development_secret_in_production(self) -> None:
        with pytest.raises(ValidationError, match="RETAIL_DEMO_SIGNING_SECRET still has its dev"):
            DemoSettings(environment="production", database_url=DATABASE)

    def test_refuses_a_missing_database_url_in_production(self) -> None:
        with pytest.raises(ValidationError, match="RETAIL_DEMO_DATABASE_URL is not set"):
            DemoSettings(environment="production", signing_secret=SecretStr("s3cr3t"))

    def test_accepts_a_real_secret_in_production(self) -> None:
        settings = DemoSettings(
            environment="production", signing_secret=SecretStr("s3cr3t"), database_url=DATABASE
        )
        assert settings.environment == "production"

    def test_product_asks_for_an_s3_key_in_production_only_when_pictures_go_to_s3(self) -> None:
        from retail_product.config import ProductSettings  # noqa: PLC0415

        local = ProductSettings(environment="production", database_url=DATABASE)
        assert local.storage_backend == "local"
        with pytest.raises(ValidationError, match="RETAIL_PRODUCT_S3_SECRET_ACCESS_KEY"):
            ProductSettings(environment="production", database_url=DATABASE, storage_backend="s3")

    def test_user_service_refuses_cheap_bcrypt_in_production(self) -> None:
        from retail_user.config import UserSettings  # noqa: PLC0415

        with pytest.raises(ValidationError, match="bcrypt_rounds"):
            UserSettings(
                environment="production",
                key_encryption_secret=SecretStr("real"),
                database_url=DATABASE,
                bcrypt_rounds=4,
            )


class TestCursor:
    def test_round_trips(self) -> None:
        assert decode_cursor(encode_cursor({"id": "abc", "n": 3})) == {"id": "abc", "n": 3}

    @pytest.mark.parametrize("junk", ["%%%", "bm90IGpzb24", "WzEsMl0"])
    def test_junk_is_a_bad_request(self, junk: str) -> None:
        with pytest.raises(BadRequest):
            decode_cursor(junk)


class TestCorrelationId:
    def test_a_safe_caller_id_is_kept(self) -> None:
        assert accept_correlation_id("req-123.abc") == "req-123.abc"

    @pytest.mark.parametrize("hostile", ["", "a b", "x" * 200, "line\nbreak", None])
    def test_an_unsafe_one_is_replaced(self, hostile: str | None) -> None:
        replaced = accept_correlation_id(hostile)
        assert replaced != hostile
        assert len(replaced) == 36


class TestInputModel:
    class Body(InputModel):
        name: str
        tags: list[str] = Field(default_factory=list)

    def test_refuses_nul_anywhere(self) -> None:
        with pytest.raises(ValidationError, match="NUL"):
            self.Body.model_validate({"name": "ok", "tags": ["fine", "b\x00d"]})

    def test_refuses_unknown_fields(self) -> None:
        with pytest.raises(ValidationError, match="extra"):
            self.Body.model_validate({"name": "ok", "admin": True})


class TestVerifiedTokens:
    """The verifier checks a token's signature once and keeps the result until it expires."""

    @staticmethod
    def _setup() -> tuple[Any, str, list[int]]:
        import jwt as pyjwt  # noqa: PLC0415
        from cryptography.hazmat.primitives.asymmetric.ed25519 import (  # noqa: PLC0415
            Ed25519PrivateKey,
        )

        from retail_kernel.auth import TokenVerifier  # noqa: PLC0415

        key = Ed25519PrivateKey.generate()
        jwk = json.loads(pyjwt.algorithms.OKPAlgorithm.to_jwk(key.public_key()))
        fetches: list[int] = []

        class Source:
            async def fetch_jwks(self) -> dict[str, Any]:
                fetches.append(1)
                return {"keys": [{**jwk, "kid": "k1"}]}

        now = int(time.time())
        claims = {"iss": "i", "aud": "a", "sub": "s", "iat": now, "nbf": now,
                  "exp": now + 60, "jti": "j", "roles": ["customer"], "tid": "t"}  # fmt: skip
        token = pyjwt.encode(claims, key, algorithm="EdDSA", headers={"kid": "k1", "typ": "at+jwt"})
        return TokenVerifier(Source(), issuer="i", audience="a"), token, fetches

    @staticmethod
    def _count_verifications(verifier: Any) -> list[str]:
        """The tokens the verifier checks the signature of from now on."""
        calls: list[str] = []
        real = verifier._verify

        async def counted(candidate: str) -> Any:
            calls.append(candidate)
            return await real(candidate)

        verifier._verify = counted
        return calls

    async def test_a_token_is_verified_once_and_then_served_from_memory(self) -> None:
        verifier, token, fetches = self._setup()
        calls = self._count_verifications(verifier)
        first = await verifier.verify(token)
        second = await verifier.verify(token)
        assert first == second and first.subject == "s"
        assert (len(calls), len(fetches)) == (1, 1)

    async def test_an_expired_token_is_not_served_from_memory(self) -> None:
        verifier, token, _ = self._setup()
        await verifier.verify(token)
        verifier.clock = lambda: time.time() + 3600
        calls = self._count_verifications(verifier)
        await verifier.verify(token)  # still valid by the real clock: verified again
        assert calls == [token]

    async def test_a_forged_token_is_never_kept(self) -> None:
        verifier, token, _ = self._setup()
        from retail_kernel.errors import Unauthorized  # noqa: PLC0415

        forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        for _ in range(2):
            with pytest.raises(Unauthorized):
                await verifier.verify(forged)
