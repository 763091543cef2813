from retail_kernel.errors import NotFound, UnprocessableContent


class TemplateNotFound(NotFound):
    def __init__(self, name: str, channel: str) -> None:
        super().__init__(f"no {channel} template named {name!r}")


class TemplateRejected(UnprocessableContent):
    """A template that would fail on real data is never saved."""
