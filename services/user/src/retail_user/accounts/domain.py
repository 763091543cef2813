"""Account rules: pure functions, no I/O."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from retail_user.accounts.common_passwords import COMMON_PASSWORDS

USER_ROLES = frozenset({"customer", "staff", "admin"})
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_BYTES = 72  # bcrypt ignores everything after 72 bytes; we refuse instead
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{2,31}$"
PHONE_PATTERN = r"^\+[1-9][0-9]{6,14}$"  # E.164


def password_problems(password: str, *, username: str = "", email: str = "") -> list[str]:
    """Why ``password`` is unacceptable; empty when it is fine."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        problems.append(f"must be at most {MAX_PASSWORD_BYTES} bytes in UTF-8")
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or _only_repeats(lowered):
        problems.append("is too common")
    identity = {username.lower(), email.lower(), email.split("@", maxsplit=1)[0].lower()} - {""}
    if lowered in identity:
        problems.append("must not be the username or email")
    return problems


def _only_repeats(password: str) -> bool:
    return len(set(password)) <= 2 or re.fullmatch(r"(.{1,4})\1+", password) is not None


def normalise_roles(roles: list[str]) -> list[str]:
    """Distinct roles in a stable order; raises ``ValueError`` for an unknown or empty set."""
    unknown = set(roles) - USER_ROLES
    if unknown:
        raise ValueError(f"unknown roles: {', '.join(sorted(unknown))}")
    if not roles:
        raise ValueError("a user needs at least one role")
    return sorted(set(roles))


@dataclass(frozen=True)
class LoginState:
    """The lockout-relevant part of an account."""

    failed_logins: int
    locked_until: datetime | None
    admin_locked: bool

    def is_locked(self, now: datetime) -> bool:
        return self.admin_locked or (self.locked_until is not None and self.locked_until > now)

    def after_failure(self, now: datetime, *, limit: int, lockout: timedelta) -> "LoginState":
        """One more failed attempt; reaching ``limit`` locks the account for ``lockout``.

        The lock expires on its own, so an attacker cannot keep a victim out for good by
        guessing: at worst, ``limit`` guesses per ``lockout`` period.
        """
        failures = self.failed_logins + 1
        if failures >= limit:
            return LoginState(0, now + lockout, self.admin_locked)
        return LoginState(failures, None, self.admin_locked)

    def after_success(self) -> "LoginState":
        return LoginState(0, None, self.admin_locked)

    def retry_after(self, now: datetime) -> int | None:
        """Seconds until a temporary lock ends (``None`` for no lock or an admin lock)."""
        if self.admin_locked or self.locked_until is None or self.locked_until <= now:
            return None
        return max(1, int((self.locked_until - now).total_seconds()))
