"""Credentials at rest: Fernet-encrypted until their one reveal, then deleted.

The key comes from the config (`databases.secret_key`, from an environment variable) or,
for the embedded default, from a key file the bot creates once in its data directory (0700)
with mode 0600. The file appears whole or not at all: it is written under a temporary name
and then linked into place, so a process starting at the same moment never reads it empty,
and the first key published wins. The key is never logged and never leaves this object.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from commands.resources.config import DatabasesSection

KEY_FILE_NAME = "credentials.key"
PASSWORD_BYTES = 24
_DIR_MODE = 0o700
GENERATE_KEY = (
    "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
)


def generate_password() -> str:
    """A URL-safe random password (32 characters, 192 bits)."""
    return secrets.token_urlsafe(PASSWORD_BYTES)


def key_problem(section: DatabasesSection, *, shared_database: bool) -> str | None:
    """Why `section` cannot seal credentials that every process can open; None if it can.

    `shared_database`: the app database can be shared by several processes or replicas
    (PostgreSQL). Each would create its own key file, and a Reveal handled by one could not
    decrypt what another sealed, so they need `secret_key`. The key is never quoted.
    """
    if not section.engines:
        return None
    if section.secret_key is None:
        if not shared_database:
            return None  # SQLite: one process, one key file
        return (
            "not set, and the app database is PostgreSQL: each replica or process would "
            "create its own key file, and credentials sealed by one could not be revealed "
            f"by another. Generate one key with\n  {GENERATE_KEY}\nstore it as a secret, "
            "e.g. PLATFORM_BOT_SECRET_KEY, and set in the platform config\n"
            "  databases:\n    secret_key: ${PLATFORM_BOT_SECRET_KEY}"
        )
    try:
        Fernet(section.secret_key.get_secret_value().encode())
    except ValueError:
        return f"not a Fernet key (32 bytes, URL-safe base64). Generate one with\n  {GENERATE_KEY}"
    return None


def load_or_create_key(data_dir: Path) -> bytes:
    """The key in `data_dir/credentials.key`, created (0600, in a 0700 directory) on first use."""
    data_dir.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
    path = data_dir / KEY_FILE_NAME
    if not path.exists():
        _publish_new_key(path)
    return _read_key(path)


def _publish_new_key(path: Path) -> None:
    # mkstemp creates the file 0600. os.link, unlike os.replace, fails when the name exists:
    # two first starts cannot each publish a key and leave one's ciphertexts undecryptable.
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(Fernet.generate_key())
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the new name survives a crash along with the file
    finally:
        os.close(directory)


def _read_key(path: Path) -> bytes:
    key = path.read_bytes().strip()
    try:
        Fernet(key)
    except ValueError:
        # Only a file written by hand (or by a release that wrote the file in place) can get
        # here. Raised from None: the error must not quote what the file holds.
        raise ValueError(
            f"{path} does not hold a Fernet key; restore it from a backup, or delete it if no "
            "credentials are waiting to be revealed"
        ) from None
    return key


def credential_box(section: DatabasesSection) -> CredentialBox:
    """The box sealing with `databases.secret_key`, or with the key file when none is set."""
    key = (
        section.secret_key.get_secret_value().encode()
        if section.secret_key is not None
        else load_or_create_key(section.data_dir)
    )
    return CredentialBox(key)


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
