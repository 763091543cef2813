from retail_kernel.errors import Conflict, NotFound, UnprocessableContent


class CategoryNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("no such category")


class UnknownParent(UnprocessableContent):
    def __init__(self) -> None:
        super().__init__("parent_id names no category of this tenant")


class CategoryCycle(Conflict):
    def __init__(self) -> None:
        super().__init__("a category cannot move under itself or its descendants")


class CategoryInUse(Conflict):
    def __init__(self) -> None:
        super().__init__("the category has sub-categories or products; move them first")


class DuplicateCategory(Conflict):
    def __init__(self) -> None:
        super().__init__("a sibling category already has that name")
