from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from retail_kernel.schemas import InputModel
from retail_notification.messages.schemas import ChannelName

NAME_PATTERN = r"^[a-z0-9_]{1,100}$"
LOCALE_PATTERN = r"^[a-z]{2}(-[A-Z]{2})?$"
TemplateName = Annotated[str, Field(pattern=NAME_PATTERN)]
Locale = Annotated[str, Field(pattern=LOCALE_PATTERN)]


class TemplateUpdate(InputModel):
    channel: ChannelName
    locale: Locale = "en"
    subject: Annotated[str, Field(min_length=1, max_length=300)] | None = None
    body: Annotated[str, Field(min_length=1, max_length=20_000)]
    # Data to render a template of a new name against (the defaults have their own).
    sample_data: dict[str, Any] | None = None


class TemplateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    channel: str
    locale: str
    subject: str | None
    body: str
    # True while the tenant uses the platform's default rather than its own.
    inherited: bool
    updated_at: datetime


class TemplatePage(BaseModel):
    items: list[TemplateRead]


class TemplatePreview(BaseModel):
    """A template rendered against its sample data, as the recipient would read it."""

    subject: str | None
    body: str
