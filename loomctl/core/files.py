"""Writing files whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path

from loomctl.core.errors import file_error


def write_text_atomic(path: str | os.PathLike[str], text: str, mode: int | None = None) -> None:
    """Write `text` (UTF-8) to `path` through a temporary file in the same folder: write, fsync, rename.

    A reader sees the old file or the new one, never half of one; on an error the old file is untouched and the
    temporary file is removed. `mode` (e.g. 0o600) is set on the file; without it the file is created as
    `open()` would (0o666 less the umask).
    """
    path = Path(path)
    while True:
        tmp = path.with_name(f".{path.name}.{os.urandom(4).hex()}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if mode is None else mode)
            break
        except FileExistsError:
            continue
        except OSError as exc:  # the folder is missing, not a folder, or not writable: name the file asked for
            raise file_error(exc, path, "write") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            if mode is not None:
                os.chmod(tmp, mode)  # the umask may have taken bits away
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise file_error(exc, path, "write") from exc
        raise
    try:  # make the rename itself durable
        dirfd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dirfd)
    except OSError:
        pass
    finally:
        os.close(dirfd)
