"""Trim a production virtual environment (run by the Dockerfile's builder stage).

  python slim.py VENV

Removes what no running service reads — type stubs, C sources, the packages' own tests,
botocore's models of every AWS service but S3, STS and Secrets Manager — then imports every
service's app, so that exactly the modules a service loads at start get their bytecode written
(the image's root file system is read-only at run time).
"""

import importlib
import shutil
import sys
from pathlib import Path

KEPT_BOTOCORE_MODELS = {"s3", "sts", "secretsmanager"}
DROPPED_SUFFIXES = {".pyi", ".c", ".h", ".pyx", ".pxd", ".cpp"}


def trim(venv: Path) -> None:
    site = next(venv.glob("lib/python3*/site-packages"))
    for path in site.rglob("*"):
        if path.is_file() and path.suffix in DROPPED_SUFFIXES:
            path.unlink()
    models = site / "botocore" / "data"
    for model in models.iterdir():
        if model.is_dir() and model.name not in KEPT_BOTOCORE_MODELS:
            shutil.rmtree(model)
    for tests in [*site.glob("*/tests"), *site.glob("*/test")]:
        shutil.rmtree(tests)  # the packages' own test suites
    for cache in site.rglob("__pycache__"):
        shutil.rmtree(cache)


def warm() -> None:
    """Build every service's app once: its imports write their bytecode."""
    from retail_cli import main  # noqa: F401, PLC0415 - what `retail serve` imports
    from retail_kernel.registry import installed_services  # noqa: PLC0415

    for info in installed_services().values():
        module, factory = info.app.split(":")
        getattr(importlib.import_module(module), factory)()


if __name__ == "__main__":
    trim(Path(sys.argv[1]))
    warm()
