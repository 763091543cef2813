"""Status-coded errors, rendered once as RFC 9457 problem+json."""

from collections.abc import Sequence
from typing import Any, ClassVar

import structlog
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from retail_kernel.context import correlation_id

PROBLEM_JSON = "application/problem+json"
log = structlog.get_logger("retail.errors")


class RetailError(Exception):
    """An error with an HTTP status. Subclass it per situation; endpoints just raise."""

    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal Server Error"
    # When true, the request's transaction is committed although the request fails: the
    # failure itself must be remembered (a failed login counted, a reused token's family revoked).
    commit_transaction: ClassVar[bool] = False

    def __init__(
        self,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        # Extra members of the problem document (RFC 9457 §3.2), e.g. the lines that were short.
        self.extensions = extensions or {}


class BadRequest(RetailError):
    status = 400
    title = "Bad Request"


class Unauthorized(RetailError):
    status = 401
    title = "Unauthorized"

    def __init__(self, detail: str = "authentication required") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(RetailError):
    status = 403
    title = "Forbidden"


class NotFound(RetailError):
    status = 404
    title = "Not Found"


class Conflict(RetailError):
    status = 409
    title = "Conflict"


class PreconditionFailed(RetailError):
    status = 412
    title = "Precondition Failed"


class PayloadTooLarge(RetailError):
    status = 413
    title = "Content Too Large"


class UnprocessableContent(RetailError):
    status = 422
    title = "Unprocessable Content"


class Locked(RetailError):
    status = 423
    title = "Locked"


class TooManyRequests(RetailError):
    status = 429
    title = "Too Many Requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})


class ServiceUnavailable(RetailError):
    status = 503
    title = "Service Unavailable"


def problem_response(
    request: Request,
    status: int,
    title: str,
    detail: str,
    *,
    errors: Sequence[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> JSONResponse:
    """Build a problem+json response carrying the request's correlation id."""
    body: dict[str, Any] = {
        **(extensions or {}),
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "correlation_id": correlation_id.get(),
    }
    if errors is not None:
        body["errors"] = list(errors)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in exc.errors()
    ]


async def _retail_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RetailError):
        raise exc
    return problem_response(
        request,
        exc.status,
        exc.title,
        exc.detail,
        headers=exc.headers,
        extensions=jsonable_encoder(exc.extensions),
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):
        raise exc
    errors = _validation_errors(exc)
    return problem_response(
        request, 422, "Unprocessable Content", "the request is not valid", errors=errors
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, StarletteHTTPException):
        raise exc
    return problem_response(
        request,
        exc.status_code,
        _title(exc.status_code),
        str(exc.detail),
        headers=dict(exc.headers) if exc.headers else None,
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", path=request.url.path, exc_info=exc)
    return problem_response(request, 500, "Internal Server Error", "an unexpected error occurred")


def _title(status: int) -> str:
    from http import HTTPStatus  # noqa: PLC0415 - only needed on this path

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def install_error_handlers(app: FastAPI) -> None:
    """Render every error the app can raise as problem+json."""
    app.add_exception_handler(RetailError, _retail_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
