from uuid import UUID

from retail_product.categories.domain import build_tree, creates_cycle
from retail_product.pictures.domain import sniff
from retail_product.products.domain import attribute_problems, changed_fields, precondition_holds

A, B, C = (UUID(int=n) for n in (1, 2, 3))


class TestETags:
    def test_no_if_match_or_a_star_always_holds(self) -> None:
        assert precondition_holds(None, 4)
        assert precondition_holds("*", 4)

    def test_the_current_tag_holds_weak_or_strong_in_a_list(self) -> None:
        assert precondition_holds('"4"', 4)
        assert precondition_holds('"1", W/"4"', 4)

    def test_a_stale_tag_does_not(self) -> None:
        assert not precondition_holds('"3"', 4)


class TestAttributes:
    def test_fine_attributes_have_no_problems(self) -> None:
        assert attribute_problems({"colour": "red", "size": 42}) == []

    def test_too_many_or_too_big(self) -> None:
        assert attribute_problems({f"k{n}": 1 for n in range(51)}) == ["at most 50 attributes"]
        assert "bytes" in attribute_problems({"blob": "x" * 9000})[0]


class TestChanges:
    def test_only_real_changes_count(self) -> None:
        assert changed_fields({"name": "a", "active": True}, {"name": "a", "active": False}) == {
            "active": False
        }


class TestCategoryTree:
    def test_moving_under_a_descendant_is_a_cycle(self) -> None:
        # C's ancestors are B and A: A under C would loop.
        assert creates_cycle(A, C, [C, B, A])

    def test_moving_under_itself_is_a_cycle(self) -> None:
        assert creates_cycle(A, A, [A])

    def test_moving_elsewhere_or_to_the_root_is_fine(self) -> None:
        assert not creates_cycle(C, A, [A])
        assert not creates_cycle(C, None, [])

    def test_rows_nest_into_trees_sorted_by_name(self) -> None:
        tree = build_tree([(A, "b-root", None), (B, "a-root", None), (C, "child", A)])
        assert [node["name"] for node in tree] == ["a-root", "b-root"]
        assert tree[1]["children"] == [{"id": C, "name": "child", "parent_id": A, "children": []}]


class TestPictureSniffing:
    def test_svg_and_html_are_not_pictures(self) -> None:
        assert sniff(b"<svg xmlns='http://www.w3.org/2000/svg'></svg>") is None
        assert sniff(b"<html><script>alert(1)</script></html>") is None

    def test_png_magic_alone_is_not_enough(self) -> None:
        assert sniff(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100) is None


def test_the_published_product_schema_is_current() -> None:
    """Regenerate with: uv run python -m retail_product.schema_docs docs/schemas/product.json"""
    import json  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    from retail_product.schema_docs import product_schemas  # noqa: PLC0415

    published = Path(__file__).parents[4] / "docs" / "schemas" / "product.json"
    assert json.loads(published.read_text()) == json.loads(json.dumps(product_schemas()))
