"""Alertmanager's webhook body (version 4): the fields this service reads."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from retail_kernel.schemas import SafeStr

AlertStatus = Literal["firing", "resolved"]
_Labels = dict[SafeStr, SafeStr]


class Alert(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: AlertStatus
    labels: _Labels = Field(max_length=64)
    annotations: _Labels = Field(default_factory=dict, max_length=64)
    startsAt: datetime  # noqa: N815 - Alertmanager's field name
    endsAt: datetime | None = None  # noqa: N815
    generatorURL: SafeStr = Field(default="", max_length=2000)  # noqa: N815
    fingerprint: SafeStr = Field(min_length=1, max_length=64)


class AlertBatch(BaseModel):
    """One webhook call: a group of alerts Alertmanager routed here."""

    model_config = ConfigDict(extra="ignore")

    version: Literal["4"]
    status: AlertStatus
    receiver: SafeStr = Field(max_length=200)
    alerts: list[Alert] = Field(min_length=1, max_length=500)


class AlertsAccepted(BaseModel):
    received: int
    new_messages: int
