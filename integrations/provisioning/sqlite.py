"""SQLite databases: a file in a data directory, the embedded default engine.

Per resource `orders-db`: `<data_dir>/orders-db.sqlite3`, created empty in WAL mode with mode
0600 inside a 0700 directory. SQLite has no server and no users: access control is the
file's permissions, so `create_user` and `grant` only enforce those, and the credentials are
the file path without a password. `max_bytes` cannot be stored in the file (SQLite's
`max_page_count` lasts for one connection), so the notes tell the user the PRAGMA to run.

`clone_resource` copies a database file with SQLite's online backup API (consistent even
while the source is in use); `run_sql` runs a masking script in one transaction.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from pathlib import Path

from integrations.errors import ProviderRejected, ProviderUnavailable
from integrations.provisioning import names
from integrations.provisioning_protocols import Credentials, ResourceSpec

ENGINE = "sqlite"
_FILE_MODE = 0o600
_DIR_MODE = 0o700
_SIDE_FILES = ("-wal", "-shm", "-journal")
_PAGE_SIZE = 4096


class SqliteProvisioner:
    """Creates database files under `data_dir` (created on first use)."""

    engine = ENGINE

    def __init__(self, *, data_dir: str | os.PathLike[str]) -> None:
        self._data_dir = Path(data_dir).absolute()

    def check(self) -> None:
        try:
            self._ensure_dir()
        except OSError as exc:
            raise ProviderUnavailable(ENGINE, f"data directory unusable: {exc.strerror}") from None
        if not os.access(self._data_dir, os.W_OK | os.X_OK):
            raise ProviderUnavailable(ENGINE, f"data directory {self._data_dir} is not writable")

    def exists(self, spec: ResourceSpec) -> bool:
        return self._path(spec).exists()

    def create_resource(self, spec: ResourceSpec) -> None:
        path = self._path(spec)
        try:
            self._ensure_dir()
            # O_EXCL keeps a racing run from truncating a file the other just made; the mode
            # is set at creation so the file is never readable by others, not even briefly.
            with contextlib.suppress(FileExistsError):
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE))
            with sqlite3.connect(path) as conn:
                conn.execute(f"PRAGMA page_size = {_PAGE_SIZE}")
                conn.execute("PRAGMA journal_mode = WAL")
            conn.close()
            os.chmod(path, _FILE_MODE)
        except (OSError, sqlite3.Error) as exc:
            raise ProviderRejected(ENGINE, f"create file failed: {_reason(exc)}") from None

    def clone_resource(self, source: ResourceSpec, target: ResourceSpec) -> None:
        """Make `target`'s file a copy of `source`'s whole database (tables, indexes, views,
        triggers, rows), private and in WAL mode like a new one.

        The copy is written to a temporary file beside the target and renamed over it once
        complete, so a re-run, or a crash at any point, never leaves a half-copied target.
        """
        source_path, path = self._path(source), self._path(target)
        if source_path == path:
            raise ProviderRejected(
                ENGINE, f"clone failed: {source.name} cannot be copied onto itself"
            )
        if not source_path.exists():
            raise ProviderRejected(ENGINE, f"clone failed: {source.name} does not exist")
        partial = path.with_name(path.name + ".partial")
        try:
            self._ensure_dir()
            partial.unlink(missing_ok=True)
            os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE))
            _backup(source_path, partial)
            # A -wal left by an older target file would be replayed into the new one.
            for candidate in (path, *(path.with_name(path.name + side) for side in _SIDE_FILES)):
                candidate.unlink(missing_ok=True)
            os.replace(partial, path)
        except (OSError, sqlite3.Error) as exc:
            raise ProviderRejected(ENGINE, f"clone failed: {_reason(exc)}") from None

    def run_sql(self, spec: ResourceSpec, sql_text: str) -> None:
        """Run `sql_text` (any number of statements) in `spec`'s file in one transaction."""
        path = self._path(spec)
        if not path.exists():
            raise ProviderRejected(ENGINE, f"run SQL failed: {spec.name} does not exist")
        # isolation_level=None: the module opens no transaction of its own, so BEGIN and
        # COMMIT around the script are the only ones.
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.executescript(f"BEGIN IMMEDIATE;\n{sql_text}\n;COMMIT;")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.rollback()
            first_line = (str(exc).splitlines() or ["error"])[0]
            raise ProviderRejected(ENGINE, f"run SQL failed: {first_line}") from None
        finally:
            conn.close()

    def create_user(self, spec: ResourceSpec, password: str) -> None:
        self.grant(spec)

    def grant(self, spec: ResourceSpec) -> None:
        path = self._path(spec)
        try:
            os.chmod(self._data_dir, _DIR_MODE)
            if path.exists():
                os.chmod(path, _FILE_MODE)
        except OSError as exc:
            raise ProviderRejected(ENGINE, f"set permissions failed: {_reason(exc)}") from None

    def credentials(self, spec: ResourceSpec, password: str) -> Credentials:
        path = self._path(spec)
        notes = "A file readable by the bot's OS user only; open it in place, no server."
        if spec.limits.max_bytes is not None:
            pages = max(1, spec.limits.max_bytes // _PAGE_SIZE)
            notes += f" Plan limit: run PRAGMA max_page_count = {pages} on each connection."
        return Credentials(
            engine=ENGINE,
            host="",
            port=0,
            database=str(path),
            username="",
            password="",
            url=f"sqlite:///{path}",
            notes=notes,
        )

    def drop(self, spec: ResourceSpec) -> None:
        path = self._path(spec)
        try:
            for candidate in (path, *(path.with_name(path.name + side) for side in _SIDE_FILES)):
                candidate.unlink(missing_ok=True)
        except OSError as exc:
            raise ProviderRejected(ENGINE, f"delete file failed: {_reason(exc)}") from None

    def _path(self, spec: ResourceSpec) -> Path:
        # A valid name has no `/` or `.`, so the file is always directly inside data_dir.
        return self._data_dir / names.sqlite_file(names.validate(ENGINE, spec.name))

    def _ensure_dir(self) -> None:
        self._data_dir.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
        if stat.S_IMODE(self._data_dir.stat().st_mode) != _DIR_MODE:
            os.chmod(self._data_dir, _DIR_MODE)


def _backup(source: Path, target: Path) -> None:
    """Copy `source` into the (empty) file `target` with the backup API, then WAL mode."""
    origin = sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True)
    try:
        copy = sqlite3.connect(target)
        try:
            origin.backup(copy)
            copy.execute("PRAGMA journal_mode = WAL")
        finally:
            copy.close()
    finally:
        origin.close()


def _reason(exc: OSError | sqlite3.Error) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return str(exc)
