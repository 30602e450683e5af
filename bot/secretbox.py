"""Encryption at rest for stored credentials: Fernet (AES-128-CBC + HMAC) with RF_SECRET_KEY."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken


class FernetBox:
    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except (InvalidToken, ValueError) as exc:
            raise ValueError("the token does not decrypt with RF_SECRET_KEY") from exc

    def __repr__(self) -> str:
        return "FernetBox(<key hidden>)"


def new_key() -> str:
    return Fernet.generate_key().decode()
