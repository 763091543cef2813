from retail_kernel.errors import NotFound


class NotificationNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("no such notification")
