from retail_kernel.errors import Conflict, UnprocessableContent


class BelowReserved(Conflict):
    """Stock-out that would leave less on hand than is held (or than nothing)."""

    def __init__(self, sku: str, warehouse: str, on_hand: int, reserved: int) -> None:
        super().__init__(
            f"{sku} in {warehouse} has {on_hand} on hand of which {reserved} reserved",
            extensions={"on_hand": on_hand, "reserved": reserved},
        )


class WrongDirection(UnprocessableContent):
    pass


class SameWarehouse(UnprocessableContent):
    def __init__(self) -> None:
        super().__init__("a transfer needs two different warehouses")


class IdempotencyKeyReused(UnprocessableContent):
    def __init__(self) -> None:
        super().__init__("this Idempotency-Key was used for a different adjustment")
