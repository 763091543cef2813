"""Category tree rules: pure functions, no I/O."""

from uuid import UUID


def creates_cycle(node: UUID, new_parent: UUID | None, ancestors_of_parent: list[UUID]) -> bool:
    """Moving ``node`` under ``new_parent`` loops when the parent is the node or its descendant."""
    if new_parent is None:
        return False
    return new_parent == node or node in ancestors_of_parent


def build_tree(rows: list[tuple[UUID, str, UUID | None]]) -> list[dict[str, object]]:
    """Nest ``(id, name, parent_id)`` rows into trees, siblings by name."""
    nodes: dict[UUID, dict[str, object]] = {
        id_: {"id": id_, "name": name, "parent_id": parent, "children": []}
        for id_, name, parent in rows
    }
    roots: list[dict[str, object]] = []
    for id_, _, parent in sorted(rows, key=lambda row: row[1].lower()):
        target = nodes[parent]["children"] if parent in nodes else roots
        target.append(nodes[id_])  # type: ignore[attr-defined]
    return roots
