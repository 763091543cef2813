"""What the gateway adds to ``retail``: ``openapi``, the platform's API as files."""

from pathlib import Path
from typing import Annotated

import typer

from retail_kernel.commands import console


def openapi(
    folder: Annotated[Path, typer.Argument(help="Where the files go")] = Path("docs/openapi"),
) -> None:
    """Write every service's OpenAPI document and the merged platform's as YAML files."""
    from retail_gateway import openapi_files  # noqa: PLC0415 - makes every service's app

    for path in openapi_files.write_documents(folder):
        console.print(f"wrote {path}")


def register(app: typer.Typer) -> None:
    app.command()(openapi)
