"""Pure inventory rules: merging lines, allocation across warehouses, adjustment directions,
low-stock crossings."""

import uuid

from retail_contracts.inventory import LineRequest, ShortLine
from retail_inventory.reservations.domain import Pick, Stock, allocate, merge_lines, shortages
from retail_inventory.stock.domain import Reason, crossing, direction_problem

AMS, BER, CPH = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
CODES = {AMS: "AMS-1", BER: "BER-1", CPH: "CPH-1"}


def stock(**rows: dict[str, int]) -> list[Stock]:
    """``stock(AMS={"A": 3})``: what each warehouse has available."""
    ids = {"AMS": AMS, "BER": BER, "CPH": CPH}
    return [
        Stock(sku, ids[name], CODES[ids[name]], qty)
        for name, skus in rows.items()
        for sku, qty in skus.items()
    ]


def picked(picks: list[Pick]) -> list[tuple[str, str, int]]:
    return [(pick.sku, pick.warehouse_code, pick.qty) for pick in picks]


class TestMergeLines:
    def test_a_sku_named_twice_is_asked_for_once_with_the_sum(self) -> None:
        lines = [
            LineRequest(sku="B", qty=1),
            LineRequest(sku="A", qty=2),
            LineRequest(sku="B", qty=3),
        ]
        assert merge_lines(lines) == {"A": 2, "B": 4}
        assert list(merge_lines(lines)) == ["A", "B"]


class TestShortages:
    def test_lines_all_warehouses_together_cannot_serve_are_short(self) -> None:
        rows = stock(AMS={"A": 2, "B": 1}, BER={"A": 2})
        assert shortages({"A": 4, "B": 2, "C": 1}, rows) == [
            ShortLine(sku="B", requested=2, available=1),
            ShortLine(sku="C", requested=1, available=0),
        ]

    def test_nothing_is_short_when_the_warehouses_together_suffice(self) -> None:
        assert shortages({"A": 4}, stock(AMS={"A": 2}, BER={"A": 2})) == []


class TestAllocate:
    def test_one_warehouse_that_serves_every_line_is_chosen_alone(self) -> None:
        rows = stock(AMS={"A": 9}, BER={"A": 1, "B": 1}, CPH={"A": 5, "B": 5})
        assert picked(allocate({"A": 1, "B": 1}, rows)) == [("A", "CPH-1", 1), ("B", "CPH-1", 1)]

    def test_ties_go_to_the_warehouse_with_more_units_then_the_lower_code(self) -> None:
        rows = stock(AMS={"A": 5}, BER={"A": 5}, CPH={"A": 5})
        assert picked(allocate({"A": 2}, rows)) == [("A", "AMS-1", 2)]

    def test_the_fewest_warehouses_cover_the_lines(self) -> None:
        rows = stock(AMS={"A": 5, "B": 5}, BER={"C": 5}, CPH={"A": 5})
        assert picked(allocate({"A": 1, "B": 1, "C": 1}, rows)) == [
            ("A", "AMS-1", 1),
            ("B", "AMS-1", 1),
            ("C", "BER-1", 1),
        ]

    def test_a_line_no_warehouse_serves_alone_is_split_largest_first(self) -> None:
        rows = stock(AMS={"A": 2}, BER={"A": 4}, CPH={"A": 3})
        assert picked(allocate({"A": 8}, rows)) == [
            ("A", "AMS-1", 1),
            ("A", "BER-1", 4),
            ("A", "CPH-1", 3),
        ]

    def test_warehouses_with_nothing_available_are_never_picked(self) -> None:
        rows = stock(AMS={"A": 0}, BER={"A": 3})
        assert picked(allocate({"A": 3}, rows)) == [("A", "BER-1", 3)]


class TestDirections:
    def test_stock_in_reasons_refuse_negative_deltas(self) -> None:
        assert direction_problem(Reason.RECEIPT, -1)
        assert direction_problem(Reason.RETURN, 2) is None

    def test_stock_out_reasons_refuse_positive_deltas(self) -> None:
        assert direction_problem(Reason.DAMAGE, 1)
        assert direction_problem(Reason.SHRINKAGE, -1) is None

    def test_count_corrections_go_either_way_but_never_by_zero(self) -> None:
        assert direction_problem(Reason.COUNT_CORRECTION, -3) is None
        assert direction_problem(Reason.COUNT_CORRECTION, 3) is None
        assert direction_problem(Reason.COUNT_CORRECTION, 0)

    def test_transfers_are_not_single_adjustments(self) -> None:
        assert direction_problem(Reason.TRANSFER_IN, 1)
        assert direction_problem(Reason.TRANSFER_OUT, -1)


class TestCrossing:
    def test_falling_below_the_threshold_is_a_crossing_once(self) -> None:
        assert crossing(4, 5, was_low=False) is True
        assert crossing(3, 5, was_low=True) is None

    def test_coming_back_to_the_threshold_is_a_crossing(self) -> None:
        assert crossing(5, 5, was_low=True) is False
        assert crossing(9, 5, was_low=False) is None
