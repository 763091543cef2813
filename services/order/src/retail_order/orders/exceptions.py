from uuid import UUID

from retail_kernel.errors import Conflict, NotFound, ServiceUnavailable, UnprocessableContent


class OrderNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("no such order")


class ProductsNotOrderable(UnprocessableContent):
    def __init__(self, unknown: list[UUID], inactive: list[UUID]) -> None:
        named = [*unknown, *inactive]
        super().__init__(
            "these products cannot be ordered: " + ", ".join(str(i) for i in named),
            extensions={
                "unknown_products": [str(i) for i in unknown],
                "inactive_products": [str(i) for i in inactive],
            },
        )


class MixedCurrencies(UnprocessableContent):
    def __init__(self, currencies: list[str]) -> None:
        super().__init__(
            "an order is paid in one currency; these products are priced in "
            + ", ".join(currencies)
        )


class IdempotencyKeyReused(UnprocessableContent):
    def __init__(self) -> None:
        super().__init__("this Idempotency-Key was used with a different request body")


class RequestInProgress(Conflict):
    def __init__(self) -> None:
        super().__init__("a request with this Idempotency-Key is still being processed; retry")


class CannotCancel(Conflict):
    def __init__(self, why: str) -> None:
        super().__init__(f"the order can no longer be cancelled: {why}")


class NotParked(Conflict):
    def __init__(self) -> None:
        super().__init__("the order's saga is not waiting for an operator")


class CatalogUnavailable(ServiceUnavailable):
    def __init__(self, detail: str, retry_after: int | None = None) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after else None
        super().__init__(detail, headers=headers)
