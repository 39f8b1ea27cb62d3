"""Credentials at rest: Fernet-encrypted until their one reveal, then deleted.

The key comes from the config (`databases.secret_key`, from an environment variable) or,
for the embedded default, from a key file the bot creates once in its data directory with
mode 0600. The key is never logged and never leaves this object.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

KEY_FILE_NAME = "credentials.key"
PASSWORD_BYTES = 24


def generate_password() -> str:
    """A URL-safe random password (32 characters, 192 bits)."""
    return secrets.token_urlsafe(PASSWORD_BYTES)


def load_or_create_key(data_dir: Path) -> bytes:
    """The key in `data_dir/credentials.key`, created (0600) on first use."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / KEY_FILE_NAME
    try:
        # O_EXCL: two processes starting together cannot both write a different key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(Fernet.generate_key())
    return path.read_bytes().strip()


class CredentialBox:
    """Encrypts and decrypts secrets for storage in the app database."""

    def __init__(self, key: bytes | str) -> None:
        self._fernet = Fernet(key.encode() if isinstance(key, str) else key)

    def __repr__(self) -> str:
        return "CredentialBox(<key hidden>)"

    def seal(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def open(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            # Raised from None: the ciphertext stays out of the traceback.
            raise ValueError("stored credentials cannot be decrypted with this key") from None

    def seal_mapping(self, values: Mapping[str, str]) -> str:
        return self.seal(json.dumps(dict(values)))

    def open_mapping(self, token: str) -> dict[str, str]:
        loaded = json.loads(self.open(token))
        return {str(k): str(v) for k, v in loaded.items()}
