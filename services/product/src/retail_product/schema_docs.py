"""The product JSON Schemas published in ``docs/schemas/product.json``."""

import json
import sys
from pathlib import Path

from retail_product.products.schemas import ProductCreate, ProductRead, ProductUpdate


def product_schemas() -> dict[str, object]:
    return {
        "ProductCreate": ProductCreate.model_json_schema(),
        "ProductUpdate": ProductUpdate.model_json_schema(),
        "ProductRead": ProductRead.model_json_schema(mode="serialization"),
    }


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schemas/product.json")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(product_schemas(), indent=2, sort_keys=True) + "\n")
