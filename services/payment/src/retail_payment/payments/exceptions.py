from retail_kernel.errors import Conflict, NotFound, ServiceUnavailable


class PaymentNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("no such payment")


class IllegalTransition(Conflict):
    def __init__(self, status: str, action: str) -> None:
        super().__init__(f"a {status} payment cannot be {action}")


class RefundTooLarge(Conflict):
    pass


class ProviderDown(ServiceUnavailable):
    def __init__(self, name: str) -> None:
        super().__init__(f"the payment provider {name} is unavailable; try again")
