"""What a service adds to the ``retail`` command.

A service names a function in its ``ServiceInfo.commands`` (``"retail_user.cli:register"``)
that adds its own commands to the ``retail`` Typer app; the CLI calls it for every installed
service, and so depends on none. The commands act on the local platform (``retail_kernel.local``)
or on the database their environment names, like every ``retail`` command.
"""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from retail_kernel.local import Home

HomeOption = Annotated[
    Path, typer.Option("--home", envvar="RETAIL_HOME", help="Folder for local state")
]
DEFAULT_HOME = Path(".retail")
console = Console()


def home_at(path: Path) -> Home:
    return Home(path.resolve())
