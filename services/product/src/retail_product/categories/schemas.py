from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints

from retail_kernel.schemas import InputModel

CategoryName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
]


class CategoryCreate(InputModel):
    name: CategoryName
    parent_id: UUID | None = None


class CategoryUpdate(InputModel):
    name: CategoryName | None = None
    parent_id: UUID | None = None


class CategoryRead(BaseModel):
    id: UUID
    name: str
    parent_id: UUID | None


class CategoryNode(CategoryRead):
    children: list["CategoryNode"] = Field(default_factory=list)


class CategoryTree(BaseModel):
    items: list[CategoryNode]
    next_cursor: None = None
