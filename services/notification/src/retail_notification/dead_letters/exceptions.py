from retail_kernel.errors import NotFound, UnprocessableContent


class DeadLetterNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("no such dead letter")


class CannotRedrive(UnprocessableContent):
    pass
