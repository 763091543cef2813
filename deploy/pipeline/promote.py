"""Promote one service of an environment to an image tag: the pipeline's deploy step.

  python deploy/pipeline/promote.py --environment prod --service order --tag v1.4.0

staging and prod are released by Flux from this repository, so a deploy is a commit: this
rewrites ``deploy/helm/retail/images-<environment>.yaml`` — the file the pipeline owns (people
edit ``values-<environment>.yaml``), the last of the HelmRelease's values files — with the
service's ``services.<name>.image.tag``. Once every service runs the same tag, the release's
own ``image.tag`` (the hook jobs' image) moves to it too. The workflow commits and pushes the
change; Flux rolls it out.
"""

import argparse
import re
from pathlib import Path
from typing import Any

import yaml

CHART = Path(__file__).resolve().parents[2] / "deploy" / "helm" / "retail"
ENVIRONMENTS = ("staging", "prod")
TAG = re.compile(r"^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$")
HEADER = """\
# Written by the pipeline (deploy/pipeline/promote.py, .github/workflows/release.yml): the
# image each service runs in {environment}. Edit values-{environment}.yaml instead.
"""


def images_file(environment: str, chart: Path = CHART) -> Path:
    return chart / f"images-{environment}.yaml"


def services_of(chart: Path = CHART) -> list[str]:
    values = yaml.safe_load((chart / "values.yaml").read_text())
    return sorted(values["services"])


def promote(environment: str, service: str, tag: str, chart: Path = CHART) -> dict[str, Any]:
    """The environment's images with ``service`` on ``tag``; written to its file."""
    if environment not in ENVIRONMENTS:
        raise ValueError(f"environment must be one of {', '.join(ENVIRONMENTS)}")
    services = services_of(chart)
    if service not in services:
        raise ValueError(f"unknown service {service!r}: one of {', '.join(services)}")
    if not TAG.match(tag):
        raise ValueError(f"{tag!r} is not a release tag (v1.2.3, 1.2.3-rc.1)")
    path = images_file(environment, chart)
    images: dict[str, Any] = yaml.safe_load(path.read_text()) if path.exists() else {}
    release = images.setdefault("image", {})
    own = images.setdefault("services", {})
    for name in services:
        own.setdefault(name, {"image": {"tag": release.get("tag", tag)}})
    own[service] = {"image": {"tag": tag}}
    if {entry["image"]["tag"] for entry in own.values()} == {tag}:
        release["tag"] = tag
    path.write_text(
        HEADER.format(environment=environment)
        + yaml.safe_dump(images, sort_keys=True, default_flow_style=None)
    )
    return images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--environment", required=True, choices=ENVIRONMENTS)
    parser.add_argument("--service", required=True)
    parser.add_argument("--tag", required=True)
    arguments = parser.parse_args()
    try:
        promote(arguments.environment, arguments.service, arguments.tag)
    except ValueError as error:
        parser.error(str(error))


if __name__ == "__main__":
    main()
