"""Pure rules of an order's creation: merging lines, pricing them from the catalog, the
fingerprint of a request for its Idempotency-Key, the number people call it by."""

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

FIRST_NUMBER = 100001  # a tenant's first order is R-100001: six digits from the start


def order_number(sequence: int) -> str:
    """The order's number as people say it (on the phone, in a mail): ``R-100042``."""
    return f"R-{sequence}"


@dataclass(frozen=True)
class Product:
    """What the catalog says about a product at order time."""

    id: UUID
    sku: str
    name: str
    amount: int
    currency: str
    active: bool


@dataclass(frozen=True)
class PricedLine:
    product_id: UUID
    sku: str
    name: str
    qty: int
    unit_amount: int


@dataclass(frozen=True)
class Priced:
    lines: list[PricedLine]
    total: int
    currency: str


@dataclass(frozen=True)
class Unorderable:
    unknown: list[UUID]
    inactive: list[UUID]
    currencies: list[str]


def merge_lines(lines: Iterable[tuple[UUID, int]]) -> dict[UUID, int]:
    """One quantity per product (named twice: the sum), in the order first named."""
    wanted: dict[UUID, int] = {}
    for product_id, qty in lines:
        wanted[product_id] = wanted.get(product_id, 0) + qty
    return wanted


def price(wanted: Mapping[UUID, int], products: Mapping[UUID, Product]) -> Priced | Unorderable:
    """Freeze each line's name and price; refuse unknown or inactive products and a mix of
    currencies."""
    unknown = [product_id for product_id in wanted if product_id not in products]
    inactive = [i for i in wanted if i in products and not products[i].active]
    currencies = sorted({products[i].currency for i in wanted if i in products})
    if unknown or inactive or len(currencies) > 1:
        return Unorderable(unknown, inactive, currencies if len(currencies) > 1 else [])
    lines = [
        PricedLine(i, products[i].sku, products[i].name, qty, products[i].amount)
        for i, qty in wanted.items()
    ]
    total = sum(line.qty * line.unit_amount for line in lines)
    return Priced(lines, total, currencies[0])


def request_hash(body: Mapping[str, Any]) -> str:
    """A fingerprint of a request body: the same JSON in any key order gives the same hash."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
