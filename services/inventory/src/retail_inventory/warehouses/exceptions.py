from retail_kernel.errors import Conflict, UnprocessableContent


class DuplicateWarehouse(Conflict):
    def __init__(self, code: str) -> None:
        super().__init__(f"warehouse {code} already exists")


class UnknownWarehouse(UnprocessableContent):
    def __init__(self, code: str) -> None:
        super().__init__(f"no warehouse {code} in this tenant")
