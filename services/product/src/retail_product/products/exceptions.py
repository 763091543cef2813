from retail_kernel.errors import Conflict, NotFound, PreconditionFailed, UnprocessableContent


class ProductNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("no such product")


class DuplicateSku(Conflict):
    def __init__(self, sku: str) -> None:
        super().__init__(f"sku {sku!r} already exists in this tenant")


class StaleProduct(PreconditionFailed):
    def __init__(self) -> None:
        super().__init__("the product changed since that ETag; read it again")


class UnknownCategories(UnprocessableContent):
    def __init__(self, ids: list[str]) -> None:
        super().__init__(f"unknown categories: {', '.join(sorted(ids))}")


class BadAttributes(UnprocessableContent):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("attributes: " + "; ".join(problems))
