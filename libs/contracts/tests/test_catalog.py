import json
from pathlib import Path

from retail_contracts.catalog import ALL_EVENT_TYPES, event_catalog

CATALOG = Path(__file__).parents[3] / "docs" / "events" / "catalog.json"


def test_the_committed_catalog_matches_the_models() -> None:
    """Regenerate with: uv run python -m retail_contracts.catalog docs/events/catalog.json"""
    assert json.loads(CATALOG.read_text()) == json.loads(json.dumps(event_catalog()))


def test_event_types_follow_the_naming_rule() -> None:
    for model in ALL_EVENT_TYPES:
        service = model.topic.split(".")[1]
        assert model.event_type.startswith(f"retail.{service}.")
        assert model.event_type.rsplit(".", 1)[1].startswith("v")
