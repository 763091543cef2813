from pydantic import BaseModel

from retail_kernel.schemas import InputModel


class PreferencesRead(BaseModel):
    """Whether the user wants messages on each channel (opted in unless they said no)."""

    email: bool
    sms: bool


class PreferencesUpdate(InputModel):
    email: bool | None = None
    sms: bool | None = None
