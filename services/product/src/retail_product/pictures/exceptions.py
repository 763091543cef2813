from retail_kernel.errors import PayloadTooLarge, RetailError


class UnsupportedPicture(RetailError):
    status = 415
    title = "Unsupported Media Type"

    def __init__(self) -> None:
        super().__init__("the file is not an intact JPEG, PNG or WebP image")


class PictureTooLarge(PayloadTooLarge):
    def __init__(self, limit: int) -> None:
        super().__init__(f"pictures may be at most {limit} bytes")
