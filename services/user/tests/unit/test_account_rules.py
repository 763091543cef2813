"""The User service's pure rules: no database, no network."""

from datetime import UTC, datetime, timedelta

import pytest

from retail_user.accounts.domain import LoginState, normalise_roles, password_problems
from retail_user.tokens.domain import access_claims, refresh_verdict, token_digest

NOW = datetime(2026, 1, 1, tzinfo=UTC)


class TestPasswordRules:
    def test_a_long_uncommon_password_is_fine(self) -> None:
        assert password_problems("violet staircase 42") == []

    def test_a_short_password_is_refused(self) -> None:
        assert password_problems("abc12") == ["must be at least 10 characters"]

    def test_a_password_over_72_bytes_is_refused_rather_than_truncated(self) -> None:
        assert "must be at most 72 bytes in UTF-8" in password_problems("ü" * 37)

    def test_common_passwords_are_refused_whatever_their_case(self) -> None:
        assert "is too common" in password_problems("QwertyUIOP")

    def test_repetitions_count_as_common(self) -> None:
        assert "is too common" in password_problems("abcabcabcabc")

    def test_the_username_is_not_a_password(self) -> None:
        assert "must not be the username or email" in password_problems(
            "longusername", username="LongUserName"
        )


class TestRoles:
    def test_roles_are_deduplicated_and_sorted(self) -> None:
        assert normalise_roles(["staff", "admin", "staff"]) == ["admin", "staff"]

    def test_unknown_roles_are_refused(self) -> None:
        with pytest.raises(ValueError, match="unknown roles: root"):
            normalise_roles(["root"])

    def test_service_is_not_a_user_role(self) -> None:
        with pytest.raises(ValueError, match="service"):
            normalise_roles(["service"])

    def test_a_user_needs_a_role(self) -> None:
        with pytest.raises(ValueError, match="at least one role"):
            normalise_roles([])


class TestLockout:
    fresh = LoginState(failed_logins=0, locked_until=None, admin_locked=False)

    def test_failures_below_the_limit_only_count(self) -> None:
        state = self.fresh
        for _ in range(4):
            state = state.after_failure(NOW, limit=5, lockout=timedelta(minutes=15))
        assert state.failed_logins == 4
        assert not state.is_locked(NOW)

    def test_the_limit_locks_for_the_lockout_period(self) -> None:
        state = LoginState(4, None, False).after_failure(
            NOW, limit=5, lockout=timedelta(minutes=15)
        )
        assert state.is_locked(NOW + timedelta(minutes=14))
        assert state.retry_after(NOW) == 900

    def test_the_lock_expires_by_itself(self) -> None:
        state = LoginState(0, NOW + timedelta(minutes=15), False)
        assert not state.is_locked(NOW + timedelta(minutes=15, seconds=1))

    def test_an_admin_lock_does_not_expire(self) -> None:
        state = LoginState(0, None, True)
        assert state.is_locked(NOW + timedelta(days=365))
        assert state.retry_after(NOW) is None

    def test_success_clears_the_count(self) -> None:
        assert LoginState(3, None, False).after_success().failed_logins == 0


class TestTokens:
    def test_access_claims_carry_everything_a_verifier_requires(self) -> None:
        claims = access_claims(
            subject="u",
            roles=["customer"],
            tenant_id="t",
            issuer="i",
            audience="a",
            now=NOW,
            ttl=timedelta(minutes=15),
            token_id="j",
        )
        assert claims["exp"] - claims["iat"] == 900
        assert claims["nbf"] == claims["iat"] == int(NOW.timestamp())
        assert {"iss", "aud", "sub", "jti", "roles", "tid"} <= claims.keys()

    def test_a_spent_refresh_token_is_a_reuse(self) -> None:
        verdict = refresh_verdict(
            used_at=NOW, revoked_at=None, expires_at=NOW + timedelta(days=1), now=NOW
        )
        assert verdict == "reused"

    def test_an_expired_refresh_token_is_expired(self) -> None:
        verdict = refresh_verdict(used_at=None, revoked_at=None, expires_at=NOW, now=NOW)
        assert verdict == "expired"

    def test_opaque_tokens_are_stored_as_digests(self) -> None:
        assert token_digest("secret") != "secret"
        assert len(token_digest("secret")) == 64
