"""Signing keys: Ed25519 pairs whose private halves are encrypted at rest (Fernet, key derived
from ``key_encryption_secret``). The newest unretired key signs; retired keys stay in the JWKS
until every token they signed has expired."""

import base64
import json
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from jwt.algorithms import OKPAlgorithm

from retail_kernel.auth import ACCESS_TOKEN_TYPE, ALGORITHM
from retail_kernel.events import new_id
from retail_user.models import SigningKey


class KeyCipher:
    """Encrypts private keys for storage; the secret never touches the database."""

    def __init__(self, secret: str) -> None:
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"retail-user signing keys"
        ).derive(secret.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))
        self._cache: dict[str, Ed25519PrivateKey] = {}

    def new_key(self) -> SigningKey:
        private = Ed25519PrivateKey.generate()
        kid = new_id().hex
        public_jwk: dict[str, Any] = json.loads(OKPAlgorithm.to_jwk(private.public_key()))
        public_jwk.update({"kid": kid, "alg": ALGORITHM, "use": "sig"})
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self._cache[kid] = private
        return SigningKey(
            kid=kid,
            algorithm=ALGORITHM,
            private_key_encrypted=self._fernet.encrypt(pem),
            public_jwk=public_jwk,
        )

    def private_key(self, key: SigningKey) -> Ed25519PrivateKey:
        cached = self._cache.get(key.kid)
        if cached is None:
            loaded = serialization.load_pem_private_key(
                self._fernet.decrypt(key.private_key_encrypted), password=None
            )
            if not isinstance(loaded, Ed25519PrivateKey):
                raise TypeError(f"signing key {key.kid} is not Ed25519")
            cached = self._cache.setdefault(key.kid, loaded)
        return cached

    def sign(self, key: SigningKey, claims: dict[str, Any]) -> str:
        return jwt.encode(
            claims,
            self.private_key(key),
            algorithm=ALGORITHM,
            headers={"kid": key.kid, "typ": ACCESS_TOKEN_TYPE},
        )


def retire(key: SigningKey, now: datetime, *, token_ttl: timedelta) -> None:
    """Stop signing with ``key``; keep verifying until its last token has expired."""
    key.retired_at = now
    key.verify_until = now + token_ttl + timedelta(seconds=60)


def jwks(keys: list[SigningKey]) -> dict[str, Any]:
    return {"keys": [key.public_jwk for key in keys]}
