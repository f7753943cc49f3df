"""Every file loomctl writes: whole or not at all, through symlinks, never over a device; a lock per file.

`write_text_atomic` writes a unique temporary file next to the target (`tempfile.mkstemp`), fsyncs it and renames
it over the target. A symlink is followed to its final target (the link stays a link); a target that exists and
is not a regular file (a device such as /dev/null, a FIFO, a folder) is refused with a `FileError` naming it, and
nothing is written. An existing file keeps its mode. `locked(path)` holds an exclusive lock on the sidecar file
`<target>.lock` around a read-modify-write (the config file), so that parallel writers all keep their change.
Every OSError becomes a `FileError` (exit 2) naming the file asked for (`core/errors.py` `file_error`).
`read_text` reads a file loomctl is given (a spec, the config): a folder or FIFO is named as such.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from loomctl.core.errors import FileError, file_error

_KINDS = {stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device", stat.S_IFIFO: "a FIFO",
          stat.S_IFSOCK: "a socket"}


def target_of(path: str | os.PathLike[str]) -> Path:
    """The file a write to `path` changes: the final target of a symlink (chain), else `path` itself."""
    return Path(os.path.realpath(path))


def _with(err: FileError, also: str | None) -> FileError:
    if also:
        err.hint = f"{err.hint}, {also}" if err.hint else also
    return err


def _failed(exc: OSError, shown: Path, also: str | None) -> FileError:
    return _with(file_error(exc, shown, "write"), also)


def _existing(path: Path, shown: Path, also: str | None) -> os.stat_result | None:
    """The stat of an existing regular file, None when there is none; anything else is refused."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _failed(exc, shown, also) from exc
    why = _not_regular(st)
    if why == "a folder":
        raise _with(FileError(f"cannot write {shown}: it is a folder", "give the path of a file"), also)
    if why:
        raise _with(FileError(f"cannot write {shown}: it is {why}",
                              "give the path of a regular file (or of one that does not exist yet)"), also)
    return st


def _not_regular(st: os.stat_result) -> str | None:
    """What a file that is not a regular file is ("a folder", "a FIFO, not a regular file"), None for one that is."""
    if stat.S_ISDIR(st.st_mode):
        return "a folder"
    if not stat.S_ISREG(st.st_mode):
        return f"{_KINDS.get(stat.S_IFMT(st.st_mode), 'a special file')}, not a regular file"
    return None


def read_text(path: str | os.PathLike[str], hint: str) -> str | None:
    """A text file loomctl is given to read (a spec, the config), None when it does not exist (a dangling symlink
    included: a write creates its target). A folder, FIFO (reading it would wait for a writer forever) or socket is
    refused (a device such as /dev/null is read), and every OSError, a symlink loop included, becomes a FileError
    naming the file; `hint` says what to give instead."""
    shown = Path(path)
    try:
        st = os.stat(shown)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise file_error(exc, shown, "read") from exc
    if stat.S_ISDIR(st.st_mode) or stat.S_ISFIFO(st.st_mode) or stat.S_ISSOCK(st.st_mode):
        raise FileError(f"cannot read {shown}: it is {_not_regular(st)}", hint)
    try:
        return shown.read_text(encoding="utf-8")
    except FileNotFoundError:  # removed in between
        return None
    except OSError as exc:
        raise file_error(exc, shown, "read") from exc


def _umask() -> int:
    try:  # Linux: read it without changing it (os.umask would change it for every thread for a moment)
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def write_text_atomic(path: str | os.PathLike[str], text: str, mode: int | None = None, *,
                      parents: bool = False, also: str | None = None) -> None:
    """Write `text` (UTF-8) to `path` whole or not at all; see the module docstring.

    A reader sees the old file or the new one, never half of one; on an error the old file is untouched and the
    temporary file is removed. An existing file keeps its mode; a new one gets `mode` (e.g. 0o600, whatever the
    umask) or, without it, what `open()` would give (0o666 less the umask). `parents`: create missing folders.
    Errors are `FileError`s naming `path`; `also` is added to their hint (", or set LOOMCTL_CONFIG ...").
    """
    shown = Path(path)
    real = target_of(shown)
    st = _existing(real, shown, also)
    new_mode = stat.S_IMODE(st.st_mode) if st else (0o666 & ~_umask()) if mode is None else mode
    try:
        if parents:
            real.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=real.parent, prefix=f".{real.name}.", suffix=".tmp")
    except OSError as exc:
        raise _failed(exc, shown, also) from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            os.chmod(tmp, new_mode)  # mkstemp made it 0o600
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, real)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _failed(exc, shown, also) from exc
        raise
    _sync_folder(real.parent)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every file system lets a folder be fsynced)."""
    try:
        dirfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dirfd)
    except OSError:
        pass
    finally:
        os.close(dirfd)


@contextlib.contextmanager
def locked(path: str | os.PathLike[str], *, parents: bool = False, also: str | None = None) -> Iterator[Path]:
    """Hold an exclusive lock for `path` (on `<target>.lock` beside its real target) for the `with` block.

    For read-modify-write: read, change and `write_text_atomic` inside the block, so that parallel writers wait
    for each other instead of losing each other's changes. A target that is not a regular file is refused before
    anything is created. Yields the real target. Where `fcntl` is missing (Windows) the block runs unlocked.
    """
    shown = Path(path)
    real = target_of(shown)
    _existing(real, shown, also)
    lock = real.with_name(real.name + ".lock")
    try:
        if parents:
            real.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise _failed(exc, shown, also) from exc
    try:
        try:
            import fcntl
        except ModuleNotFoundError:  # pragma: no cover - Windows
            fcntl = None  # type: ignore[assignment]
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)  # released when the descriptor is closed
        yield real
    finally:
        os.close(fd)
