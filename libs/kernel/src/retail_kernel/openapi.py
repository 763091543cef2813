"""OpenAPI that tells the truth about errors: every 4xx/5xx is ``application/problem+json``.

Routes declare their own statuses with ``problem_responses(404, 409)``; responses every route of
a kind can give are added here: 401 where a token is required, 400, 413 and 422 for input.
"""

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from retail_kernel.errors import PROBLEM_JSON

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
CONTACT = {
    "name": "Retail platform team",
    "url": "https://github.com/retail-platform/retail/issues",
}
# What the kernel's own tags are about (a service describes its own in ServiceSpec.tags).
TAGS = {"operations": "Liveness, readiness and metrics, for the platform rather than its users"}


class ProblemError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    correlation_id: str | None = None
    errors: list[ProblemError] | None = None


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: these statuses, each a problem document."""
    return {status: {"description": HTTPStatus(status).phrase} for status in statuses}


def install_problem_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _build(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _build(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
        contact=CONTACT,
    )
    schema["tags"] = _every_tag(schema)
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    for methods in schema.get("paths", {}).values():
        for operation in methods.values():
            _document_problems(operation)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return schema


def _every_tag(schema: dict[str, Any]) -> list[dict[str, str]]:
    """The tags the app describes, then every other tag an operation uses (a document's
    tags are all declared at the top, for the docs to group and order them)."""
    tags: list[dict[str, str]] = list(schema.get("tags", []))
    named = {tag["name"] for tag in tags}
    for methods in schema.get("paths", {}).values():
        for operation in methods.values():
            for name in operation.get("tags", []):
                if name not in named:
                    tags.append({"name": name, "description": TAGS.get(name, name.capitalize())})
                    named.add(name)
    return tags


def _document_problems(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    implied: list[int] = []
    if operation.get("security"):
        implied.append(401)
    if "requestBody" in operation:
        implied += [400, 413, 422]  # 400: a body that is not even decodable
    if operation.get("parameters"):
        implied.append(422)
    for code in implied:
        responses.setdefault(str(code), {"description": HTTPStatus(code).phrase})
    for status, response in responses.items():
        if status.isdigit() and int(status) >= 400:
            response["content"] = {PROBLEM_JSON: {"schema": PROBLEM_REF}}
