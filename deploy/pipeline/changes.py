"""Which tests a pull request's change needs: the pipeline's selection (pull-request.yml).

  python deploy/pipeline/changes.py CHANGED_FILE...     (or the files on stdin, one a line)

Prints one JSON object for GitHub's step outputs:

- ``everything``: the change can reach every service (the kernel, the contracts, the CLI, the
  lock file, the test plugin, the pipeline itself): the whole suite runs, as on main;
- ``tests``: otherwise, the test paths to run — each touched service's tests and those of every
  service whose code or tests import it (read from the imports, not listed by hand), the
  end-to-end suite when any service changed, the deployment tests when the image, the chart
  or the deployment files changed; empty when only documentation changed;
- ``image``: whether the container image must be built.

Main always runs everything before an image is pushed: this selection only makes a pull
request's feedback faster.
"""

import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TypedDict

ROOT = Path(__file__).resolve().parents[2]
# A change here can break any service: run everything.
EVERYTHING = (
    "libs/",
    "pyproject.toml",
    "uv.lock",
    "dev",
    "Makefile",
    ".ci/",
    ".github/",
    "deploy/pipeline/",
)
IMAGE = ("Dockerfile", ".dockerignore", "deploy/image/")
DEPLOYMENT = ("deploy/", *IMAGE)
NOT_CODE = ("docs/", "README.md", "bench/results/")
IMPORT = re.compile(r"^\s*(?:from|import)\s+([A-Za-z_]\w*)", re.MULTILINE)


class Selection(TypedDict):
    everything: bool
    tests: str
    image: bool


EVERYTHING_SELECTED = Selection(everything=True, tests="", image=True)


def owned_modules(service: Path) -> set[str]:
    """The top-level modules a service's folder defines (its package, its test helpers)."""
    names = set()
    for folder in (service / "src", service / "tests"):
        for path in folder.glob("*"):
            if path.suffix == ".py" or (path.is_dir() and (path / "__init__.py").exists()):
                names.add(path.stem)
    return names - {"conftest", "__init__"}


def importers(root: Path = ROOT) -> dict[str, set[str]]:
    """For every service, the services whose code or tests import one of its modules."""
    services = sorted(path for path in (root / "services").iterdir() if path.is_dir())
    owner = {module: path.name for path in services for module in owned_modules(path)}
    graph: dict[str, set[str]] = {path.name: set() for path in services}
    for path in services:
        for source in path.rglob("*.py"):
            for module in IMPORT.findall(source.read_text()):
                imported = owner.get(module)
                if imported is not None and imported != path.name:
                    graph[imported].add(path.name)
    return graph


def affected(touched: Iterable[str], graph: dict[str, set[str]]) -> set[str]:
    """The touched services and, transitively, every service importing them."""
    found, todo = set(), list(touched)
    while todo:
        service = todo.pop()
        if service not in found:
            found.add(service)
            todo.extend(graph.get(service, ()))
    return found


def select(changed: Iterable[str], root: Path = ROOT) -> Selection:
    files = [name.strip() for name in changed if name.strip()]
    everything = any(name.startswith(EVERYTHING) or name in EVERYTHING for name in files)
    image = everything or any(name.startswith(IMAGE) for name in files)
    if everything:
        return EVERYTHING_SELECTED
    touched = {name.split("/")[1] for name in files if name.startswith("services/")}
    tests = [f"services/{name}/tests" for name in sorted(affected(touched, importers(root)))]
    if touched or any(name.startswith("tests/e2e/") for name in files):
        tests.append("tests/e2e")
    if touched or any(name.startswith((*DEPLOYMENT, "tests/deploy/")) for name in files):
        # The chart's tests read the services' settings (the call graph): cheap, so always.
        tests.append("tests/deploy")
    unknown = [
        name
        for name in files
        if not name.startswith(("services/", "tests/", *DEPLOYMENT, *NOT_CODE, "bench/"))
    ]
    if unknown:  # a file no rule knows: the safe answer
        return EVERYTHING_SELECTED
    return Selection(everything=False, tests=" ".join(tests), image=image)


def main() -> None:
    changed = sys.argv[1:] or sys.stdin.read().splitlines()
    print(json.dumps(select(changed)))  # noqa: T201 - the step's output


if __name__ == "__main__":
    main()
