"""bcrypt hashing, run in worker threads: a ~0.25 s hash must never stall the event loop."""

import asyncio
import functools

import bcrypt


class PasswordHasher:
    def __init__(self, rounds: int) -> None:
        self.rounds = rounds

    async def hash(self, password: str) -> str:
        salt = bcrypt.gensalt(self.rounds)
        hashed = await asyncio.to_thread(bcrypt.hashpw, password.encode(), salt)
        return hashed.decode()

    async def verify(self, password: str, hashed: str | None) -> bool:
        """Constant work whether or not the account exists: an unknown user checks a dummy."""
        target = (hashed or self._dummy()).encode()
        try:
            ok = await asyncio.to_thread(bcrypt.checkpw, password.encode(), target)
        except ValueError:
            return False
        return ok and hashed is not None

    @functools.cache  # noqa: B019 - one dummy per hasher, which lives as long as the app
    def _dummy(self) -> str:
        return bcrypt.hashpw(b"no such account", bcrypt.gensalt(self.rounds)).decode()
