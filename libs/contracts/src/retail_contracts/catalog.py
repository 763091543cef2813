"""Every event model, and their JSON Schema catalog (written to ``docs/events/``)."""

import json
from pathlib import Path

from retail_contracts.envelope import EventData
from retail_contracts.inventory import INVENTORY_COMMAND_TYPES, INVENTORY_EVENT_TYPES
from retail_contracts.notification import NOTIFICATION_COMMAND_TYPES
from retail_contracts.order import ORDER_EVENT_TYPES
from retail_contracts.payment import PAYMENT_COMMAND_TYPES, PAYMENT_EVENT_TYPES
from retail_contracts.product import PRODUCT_EVENT_TYPES
from retail_contracts.user import USER_EVENT_TYPES

ALL_EVENT_TYPES: tuple[type[EventData], ...] = (
    *USER_EVENT_TYPES,
    *PRODUCT_EVENT_TYPES,
    *INVENTORY_COMMAND_TYPES,
    *INVENTORY_EVENT_TYPES,
    *ORDER_EVENT_TYPES,
    *PAYMENT_COMMAND_TYPES,
    *PAYMENT_EVENT_TYPES,
    *NOTIFICATION_COMMAND_TYPES,
)


def event_catalog() -> dict[str, object]:
    """A JSON document: each event type with its topic and payload schema."""
    return {
        model.event_type: {"topic": model.topic, "schema": model.model_json_schema()}
        for model in ALL_EVENT_TYPES
    }


def write_catalog(path: Path) -> None:
    """Write the catalog as pretty-printed JSON."""
    path.write_text(json.dumps(event_catalog(), indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    import sys

    write_catalog(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/events/catalog.json"))
