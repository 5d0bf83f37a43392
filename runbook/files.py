"""Write files atomically; private keys are 0600 from their first byte."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from runbook.errors import InputError, RefusingToOverwrite


def write_file(path: str | os.PathLike[str], data: bytes, *, mode: int, overwrite: bool) -> Path:
    """Write `data` to `path` atomically with permission bits `mode`.

    The bytes go to a temporary file created with `mode` (O_EXCL, so no other
    file is reused) in the same directory, then take the final name in one
    step: readers never see a half-written file, and an interrupted write
    leaves only the temporary file's removal to do, which `finally` does.
    Without `overwrite`, an existing file is never replaced (os.link fails
    instead of clobbering, even if the file appears meanwhile).
    """
    target = Path(path)
    if not overwrite and target.exists():
        raise RefusingToOverwrite(
            f"{target} already exists",
            fix="choose another path, or pass --force to replace it",
            path=str(target),
        )
    if not target.parent.is_dir():
        raise InputError(
            f"directory {target.parent} does not exist",
            fix=f"create it first: mkdir -p {target.parent}",
            path=str(target),
        )
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)  # the umask may have removed bits we want (0644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)
            except FileExistsError:
                raise RefusingToOverwrite(
                    f"{target} appeared while writing it",
                    fix="choose another path, or pass --force to replace it",
                    path=str(target),
                ) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return target


def write_private(path: str | os.PathLike[str], data: bytes, *, overwrite: bool = False) -> Path:
    return write_file(path, data, mode=0o600, overwrite=overwrite)


def write_public(path: str | os.PathLike[str], data: bytes, *, overwrite: bool = False) -> Path:
    return write_file(path, data, mode=0o644, overwrite=overwrite)


def read_input(path: str | os.PathLike[str], what: str) -> bytes:
    """Read a file the user named, turning OS errors into named errors."""
    p = Path(path)
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise InputError(
            f"{what} {p} does not exist", fix="check the path", path=str(p)
        ) from None
    except IsADirectoryError:
        raise InputError(
            f"{what} {p} is a directory", fix="name the file inside it", path=str(p)
        ) from None
    except PermissionError:
        raise InputError(
            f"{what} {p} is not readable by this user",
            fix=f"run as a user that can read it, or: sudo chmod o+r {p} (certificates only)",
            path=str(p),
        ) from None
