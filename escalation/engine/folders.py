"""Results folders that appear whole or not at all, and that two commands never share.

A results folder ``out`` is written in three steps, by :func:`write_folder`:

1. **Claim it.** :func:`claimed` takes an exclusive lock on ``out`` for as long as the command
   works on it: a lock file ``.<name>.lock`` beside it, locked with ``flock`` and holding the
   owner's process id. The kernel drops the lock when its process ends, however it ends, so a
   killed command never blocks the next one; a second command that wants the same folder
   meanwhile fails at once, saying which process holds it.
2. **Stage it.** The files are written into a hidden folder ``.<name>.writing-<pid>-XXXXXXXX``
   beside ``out``. Staging folders left by processes that no longer run (``kill -9``) are
   removed whenever a folder is claimed beside them.
3. **Rename it.** The staging folder is renamed to ``out``. The rename replaces an empty folder
   but never one that holds files, so even a writer that ignored the lock cannot be
   overwritten.

Before any of this, :func:`target` checks the name (its length, with room for the suffixes
above, within the file system's limit) and follows a symbolic link to the folder it names.
Locks and process ids are those of one machine.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from escalation.engine.workers import pid_alive

try:  # POSIX; elsewhere the refusing rename alone keeps results apart
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

#: Longest file name when the file system does not say (ext4, APFS, NTFS: 255 bytes).
NAME_MAX = 255
#: Bytes the longest derived name adds to ``out``'s: ``.`` + ``.writing-`` + pid + ``-`` + 8.
SUFFIX_ROOM = 1 + len(".writing-") + 7 + 1 + 8
_STAGING = re.compile(r"^\.(?P<name>.+)\.(?:writing|replaced)-(?P<pid>\d+)-[^.]{8}$")
#: Attempts at a lock file that a process cleaning it up holds for an instant.
_LOCK_ATTEMPTS = 20


class OutputError(Exception):
    """Results could not be written; nothing partial was left behind."""


def target(out: str | Path) -> Path:
    """The folder ``out`` names, symbolic links followed, its name checked.

    Raises :class:`OutputError` if the name is too long for the file system, with room for the
    temporary names written beside it.
    """
    try:
        real = Path(os.path.realpath(out))
    except OSError as error:  # a loop of links
        raise OutputError(f"cannot use {out} as a results folder: {_reason(error)}") from None
    limit = _name_max(real.parent)
    for name in dict.fromkeys((Path(out).name, real.name)):
        size = len(os.fsencode(name))
        if size + SUFFIX_ROOM > limit:
            raise OutputError(
                f"the folder name '{name[:24]}...' is {size} bytes long; a results folder's name "
                f"takes at most {limit - SUFFIX_ROOM} bytes (the file system's {limit}, less "
                "room for the temporary names written beside it)"
            )
    return real


def _name_max(folder: Path) -> int:
    """The longest file name in ``folder``'s file system (or its nearest existing parent's)."""
    for candidate in (folder, *folder.parents):
        try:
            if candidate.is_dir():
                return int(os.pathconf(candidate, "PC_NAME_MAX"))
        except (OSError, ValueError, AttributeError):
            break
    return NAME_MAX


def check_free(out: Path, shown: str | Path | None = None) -> None:
    """Raise :class:`OutputError` unless ``out`` is absent or an empty folder."""
    shown = shown or out
    try:
        if out.is_dir():
            if any(out.iterdir()):
                raise OutputError(f"{shown} already exists and is not empty; choose another --out")
        elif out.exists():
            raise OutputError(f"{shown} already exists and is a file, not a folder")
    except OSError as error:
        raise OutputError(f"cannot use {shown} as a results folder: {_reason(error)}") from None


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


# --- claims -----------------------------------------------------------------------------


class _Claim:
    """A held lock file and how many nested claims share it."""

    def __init__(self, path: Path, descriptor: int) -> None:
        self.path = path
        self.descriptor = descriptor
        self.depth = 1


_HELD: dict[Path, _Claim] = {}


@contextlib.contextmanager
def claimed(out: str | Path) -> Iterator[Path]:
    """Hold the exclusive claim on results folder ``out``; yield the folder it names.

    Nested claims of the same folder in one process share the lock. Raises
    :class:`OutputError` if another process holds it, or if its parent cannot be made.
    """
    real = target(out)
    held = _HELD.get(real)
    if held is not None:
        held.depth += 1
        try:
            yield real
        finally:
            held.depth -= 1
        return
    _make_parent(real, out)
    claim = _lock(real, out)
    _HELD[real] = claim
    try:
        remove_stale(real.parent)
        yield real
    finally:
        del _HELD[real]
        _unlock(claim)


def _make_parent(real: Path, shown: str | Path) -> None:
    parent = real.parent
    named = Path(shown).parent if not Path(shown).is_symlink() else parent  # as the user wrote it
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"cannot create the folder {named}: {_reason(error)}") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write results in {named}: permission denied")


def _lock_path(real: Path) -> Path:
    return real.with_name(f".{real.name}.lock")


def _lock(real: Path, shown: str | Path) -> _Claim:
    """Take the lock of ``real``, or raise :class:`OutputError` naming its holder."""
    path = _lock_path(real)
    for _ in range(_LOCK_ATTEMPTS):
        try:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise OutputError(f"cannot write results in {real.parent}: {_reason(error)}") from None
        if fcntl is None:  # pragma: no cover - Windows
            return _Claim(path, descriptor)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            os.close(descriptor)
            if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise OutputError(f"cannot lock {path}: {_reason(error)}") from None
            holder = _holder(path)
            if holder is not None and pid_alive(holder):
                raise OutputError(
                    f"{shown} is being written by another escalation command (process "
                    f"{holder}); wait for it to finish, or choose another --out"
                ) from None
            time.sleep(0.05)  # a process removing a stale lock file holds it for an instant
            continue
        try:  # the file may have been removed (and replaced) since it was opened
            same = os.fstat(descriptor).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if not same:
            os.close(descriptor)
            continue
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode())
        return _Claim(path, descriptor)
    raise OutputError(f"cannot lock {path}: it keeps changing; try again")


def _holder(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _unlock(claim: _Claim) -> None:
    with contextlib.suppress(OSError):
        os.unlink(claim.path)  # still locked: no one else can have claimed this file
    os.close(claim.descriptor)


def remove_stale(folder: Path) -> list[Path]:
    """Remove what killed commands left in ``folder``; return what was removed.

    Staging folders ``.<name>.writing-<pid>-*`` of processes that no longer run, and lock
    files that no process holds.
    """
    removed = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _STAGING.match(entry.name)
        if match and int(match["pid"]) != os.getpid() and not pid_alive(int(match["pid"])):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
        elif entry.name.startswith(".") and entry.name.endswith(".lock") and _unheld(entry):
            removed.append(entry)
    return removed


def _unheld(path: Path) -> bool:
    """Remove lock file ``path`` if no process holds it; say whether it was removed."""
    if fcntl is None:  # pragma: no cover - Windows
        return False
    try:
        descriptor = os.open(path, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(descriptor)
        return False
    with contextlib.suppress(OSError):
        if os.fstat(descriptor).st_ino == os.stat(path).st_ino:
            os.unlink(path)
            os.close(descriptor)
            return True
    os.close(descriptor)
    return False


# --- writing ----------------------------------------------------------------------------


def write_folder(
    out: str | Path, write_files: Callable[[Path], None], overwrite: bool = False
) -> Path:
    """Create folder ``out`` holding the files ``write_files(folder)`` writes: all or nothing.

    The files are written into a hidden staging folder beside ``out``, which is renamed to
    ``out`` at the end, so an interrupted or failed write leaves no folder that looks complete.
    ``out`` must not exist or be empty, unless ``overwrite`` (then it is replaced at the end).
    Returns ``out`` as given.
    """
    shown = Path(out)
    with claimed(out) as real:
        if not overwrite:
            check_free(real, shown)
        try:
            staging = Path(
                tempfile.mkdtemp(prefix=f".{real.name}.writing-{os.getpid()}-", dir=real.parent)
            )
        except OSError as error:
            raise OutputError(f"cannot write results in {real.parent}: {_reason(error)}") from None
        try:
            write_files(staging)
            os.chmod(staging, 0o755)  # mkdtemp makes it private; results are ordinary folders
            _move_into_place(staging, real, shown, overwrite)
        except OSError as error:
            shutil.rmtree(staging, ignore_errors=True)
            raise OutputError(f"cannot write results to {shown}: {_reason(error)}") from None
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return shown


def _move_into_place(staging: Path, real: Path, shown: Path, overwrite: bool) -> None:
    """Rename ``staging`` to ``real``; never over a folder that holds files, unless asked."""
    replaced = None
    if overwrite and (real.is_dir() and any(real.iterdir())):
        replaced = Path(
            tempfile.mkdtemp(prefix=f".{real.name}.replaced-{os.getpid()}-", dir=real.parent)
        )
        os.replace(real, replaced)  # onto the empty folder just made
    elif sys.platform == "win32" and real.is_dir():  # pragma: no cover - Windows
        real.rmdir()  # Windows renames onto no existing folder, even an empty one
    try:
        os.rename(staging, real)
    except OSError as error:
        if replaced is not None:
            os.replace(replaced, real)
        if error.errno in (errno.ENOTEMPTY, errno.EEXIST):
            raise OutputError(
                f"{shown} was filled by another process while these results were written; "
                "they were not written, and its files are as they were"
            ) from None
        raise
    if replaced is not None:
        shutil.rmtree(replaced, ignore_errors=True)
