"""schemathesis over a running service: never a 5xx, every response as its OpenAPI says."""

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def conformance_failures(
    base_url: str,
    *,
    mode: GenerationMode,
    headers: dict[str, str] | None = None,
    max_examples: int = 25,
    min_operations: int = 1,
) -> list[str]:
    """Exercise every operation with generated inputs; returns one line per failing operation.

    (schemathesis' own pytest integration does not run on pytest 9, so this drives its
    Python API with Hypothesis directly.)
    """
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    results = list(schema.get_all_operations())
    if not all(isinstance(result, Ok) for result in results):
        return ["the OpenAPI document has operations schemathesis cannot read"]
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    if len(operations) < min_operations:
        return [f"only {len(operations)} operations in the schema"]
    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=max_examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case: Any) -> None:
            case.call_and_validate(base_url=base_url, headers=headers or {}, checks=CHECKS)

        try:
            exercise()
        except Unsatisfiable:
            # Negative mode cannot make invalid input for an operation that takes none.
            if mode is not GenerationMode.NEGATIVE:
                failures.append(f"{operation.label}: no input could be generated")
        except Exception as exc:
            failures.append(f"{operation.label}: {exc}")
    return failures
