from retail_kernel.errors import Locked, Unauthorized


class InvalidCredentials(Unauthorized):
    # Committed: the failed attempt is counted even though the request fails.
    commit_transaction = True

    def __init__(self) -> None:
        super().__init__("invalid username or password")


class AccountLocked(Locked):
    commit_transaction = True

    def __init__(self, retry_after: int | None) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after else None
        super().__init__("the account is locked", headers=headers)


class InvalidRefreshToken(Unauthorized):
    # Committed: a reused token's whole family is revoked by the same request that fails.
    commit_transaction = True

    def __init__(self) -> None:
        super().__init__("the refresh token is invalid, spent, expired or revoked")


class InvalidClient(Unauthorized):
    def __init__(self) -> None:
        super().__init__("invalid client credentials")
