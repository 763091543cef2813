from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, LargeBinary, String, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from retail_user.models.base import Base


class SigningKey(Base):
    """A JWT signing key pair; the private half is encrypted at rest and never leaves here.

    The newest key with ``retired_at`` unset signs; a retired key stays in the JWKS until
    ``verify_until``, when every token it signed has expired.
    """

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    private_key_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verify_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ServiceClient(Base):
    """A machine client (another service) allowed the client-credentials grant."""

    __tablename__ = "service_clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    tenant_id: Mapped[str] = mapped_column(String(64))
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
