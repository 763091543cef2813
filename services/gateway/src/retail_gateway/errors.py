"""The gateway's own failures, beside the kernel's status-coded errors."""

from retail_kernel.errors import RetailError


class BadGateway(RetailError):
    status = 502
    title = "Bad Gateway"


class GatewayTimeout(RetailError):
    status = 504
    title = "Gateway Timeout"


class ClientGone(Exception):
    """The client disconnected before its request body arrived: nobody to answer."""
