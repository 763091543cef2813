from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from retail_kernel.schemas import InputModel

Secret = Annotated[str, Field(min_length=1, max_length=256)]


class LoginRequest(InputModel):
    username: Annotated[str, Field(min_length=1, max_length=254, description="username or email")]
    password: Secret


class RefreshRequest(InputModel):
    refresh_token: Secret


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth token type
    expires_in: int


class ServiceTokenRequest(InputModel):
    client_id: Annotated[str, Field(min_length=1, max_length=64)]
    client_secret: Secret


class ServiceToken(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth token type
    expires_in: int


class Jwk(BaseModel):
    model_config = ConfigDict(extra="allow")

    kty: str
    kid: str
    alg: str
    use: str


class Jwks(BaseModel):
    keys: list[Jwk]
