"""Catalog rules: pure functions, no I/O."""

import json
from typing import Any

MAX_ATTRIBUTES = 50
MAX_ATTRIBUTES_BYTES = 8 * 1024
SORTS = ("name", "-name", "price", "-price", "created_at", "-created_at")
# What a PATCH may change but never set to null (description is the one optional text).
REQUIRED_FIELDS = frozenset({"name", "price", "attributes", "active", "category_ids"})


def attribute_problems(attributes: dict[str, Any]) -> list[str]:
    """Why free-form attributes are unacceptable; empty when fine."""
    problems = []
    if len(attributes) > MAX_ATTRIBUTES:
        problems.append(f"at most {MAX_ATTRIBUTES} attributes")
    if len(json.dumps(attributes, separators=(",", ":"))) > MAX_ATTRIBUTES_BYTES:
        problems.append(f"attributes must serialise to at most {MAX_ATTRIBUTES_BYTES} bytes")
    return problems


def etag(version: int) -> str:
    """The strong entity tag of a product version."""
    return f'"{version}"'


def precondition_holds(if_match: str | None, version: int) -> bool:
    """RFC 9110 ``If-Match``: absent or ``*`` holds; else one of the listed tags must match."""
    if if_match is None or if_match.strip() == "*":
        return True
    tags = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    return etag(version) in tags


def changed_fields(current: dict[str, Any], requested: dict[str, Any]) -> dict[str, Any]:
    """The requested values that differ from the current ones."""
    return {key: value for key, value in requested.items() if current.get(key) != value}
