from retail_contracts.inventory import CommitRefusal, ShortLine
from retail_kernel.errors import Conflict, NotFound


class InsufficientStock(Conflict):
    """Nothing was held; the failed reservation is remembered for repeats of the request."""

    commit_transaction = True

    def __init__(self, short_lines: list[ShortLine]) -> None:
        skus = ", ".join(line.sku for line in short_lines)
        super().__init__(
            f"not enough stock for {skus}",
            extensions={"short_lines": [line.model_dump() for line in short_lines]},
        )


class ReservationNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("no such reservation")


class ReservationMismatch(Conflict):
    def __init__(self) -> None:
        super().__init__("this reservation_id was used for a different request")


class AlreadyCommitted(Conflict):
    def __init__(self) -> None:
        super().__init__("the reservation is committed: its stock has shipped (record a return)")


class CannotCommit(Conflict):
    """The reservation holds nothing any more; an expiry found on the way is remembered."""

    commit_transaction = True

    def __init__(self, reason: CommitRefusal) -> None:
        super().__init__(f"the reservation cannot be committed: it is {reason}")
        self.reason = reason


class NotCommitted(Conflict):
    """Only shipped (committed) stock can come back as a return."""

    def __init__(self, state: str) -> None:
        super().__init__(f"the reservation is {state}, not committed: nothing shipped to return")
