"""Pure reservation rules: merging request lines and choosing warehouses.

Allocation strategy (documented in ``docs/inventory.md``):

1. If any line cannot be served by all warehouses together, nothing is held: the answer lists
   every short line with what was available.
2. Otherwise warehouses are chosen greedily to use as few as possible: take the warehouse that
   can serve the most remaining lines *in full* (ties: the one with more of those skus
   available, then the lower warehouse code) and give it those lines; repeat. A single
   warehouse that can serve the whole order is therefore always chosen alone.
3. Lines that no single warehouse can serve in full are split, taking from the warehouses with
   the most available first (ties: lower code).
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from retail_contracts.inventory import LineRequest, ShortLine


@dataclass(frozen=True)
class Stock:
    """What one warehouse can give of one sku right now."""

    sku: str
    warehouse_id: UUID
    warehouse_code: str
    available: int


@dataclass(frozen=True)
class Pick:
    """Units of a sku to hold in a warehouse."""

    sku: str
    warehouse_id: UUID
    warehouse_code: str
    qty: int


def merge_lines(lines: Iterable[LineRequest]) -> dict[str, int]:
    """One quantity per sku (a sku named twice is asked for once, with the sum), sku-ordered."""
    wanted: dict[str, int] = defaultdict(int)
    for line in lines:
        wanted[line.sku] += line.qty
    return dict(sorted(wanted.items()))


def shortages(wanted: Mapping[str, int], stock: Sequence[Stock]) -> list[ShortLine]:
    """The lines that all warehouses together cannot serve."""
    totals: dict[str, int] = defaultdict(int)
    for row in stock:
        totals[row.sku] += max(row.available, 0)
    return [
        ShortLine(sku=sku, requested=qty, available=totals[sku])
        for sku, qty in wanted.items()
        if totals[sku] < qty
    ]


def allocate(wanted: Mapping[str, int], stock: Sequence[Stock]) -> list[Pick]:
    """Warehouses for every line, by the strategy above. The caller checks ``shortages`` first."""
    by_warehouse: dict[tuple[str, UUID], dict[str, Stock]] = defaultdict(dict)
    for row in stock:
        if row.available > 0:
            by_warehouse[(row.warehouse_code, row.warehouse_id)][row.sku] = row
    remaining = dict(wanted)
    picks: list[Pick] = []
    while remaining:
        best = _best_warehouse(remaining, by_warehouse)
        if best is None:
            break
        for sku, row in sorted(best.items()):
            picks.append(Pick(sku, row.warehouse_id, row.warehouse_code, remaining.pop(sku)))
    for sku, qty in remaining.items():
        candidates = [rows[sku] for rows in by_warehouse.values() if sku in rows]
        picks += _split(sku, qty, candidates)
    return sorted(picks, key=lambda pick: (pick.sku, pick.warehouse_code))


def _best_warehouse(
    remaining: Mapping[str, int], by_warehouse: Mapping[tuple[str, UUID], dict[str, Stock]]
) -> dict[str, Stock] | None:
    """The lines the best single warehouse can serve in full, or None when none can."""
    candidates: list[tuple[tuple[int, int, str], dict[str, Stock]]] = []
    for (code, _), rows in by_warehouse.items():
        full = {
            sku: row
            for sku, row in rows.items()
            if sku in remaining and row.available >= remaining[sku]
        }
        if full:
            stocked = sum(row.available for row in full.values())
            candidates.append(((-len(full), -stocked, code), full))
    if not candidates:
        return None
    return min(candidates, key=lambda candidate: candidate[0])[1]


def _split(sku: str, qty: int, rows: Sequence[Stock]) -> list[Pick]:
    picks: list[Pick] = []
    for row in sorted(rows, key=lambda row: (-row.available, row.warehouse_code)):
        if qty == 0:
            break
        take = min(qty, row.available)
        picks.append(Pick(sku, row.warehouse_id, row.warehouse_code, take))
        qty -= take
    return picks
