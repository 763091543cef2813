from retail_kernel.errors import NotFound, UnprocessableContent


class RuleNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(f"no rule named {name!r}")


class RuleInvalid(UnprocessableContent):
    pass
