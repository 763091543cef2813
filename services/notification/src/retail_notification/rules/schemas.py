from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from retail_kernel.schemas import InputModel
from retail_notification.messages.schemas import ChannelName
from retail_notification.templates.schemas import TemplateName


class RuleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    event_type: str
    template: str
    channels: list[str]
    audience: Literal["customer", "operators"]
    mandatory: bool
    enabled: bool
    inherited: bool


class RuleUpdate(InputModel):
    channels: Annotated[list[ChannelName], Field(min_length=1, max_length=4)] | None = None
    template: TemplateName | None = None
    enabled: bool | None = None
    mandatory: bool | None = None


class RulePage(BaseModel):
    items: list[RuleRead]
