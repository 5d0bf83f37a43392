"""Files in and out: bounded reads of regular files, atomic writes, who can read what.

Reads accept regular files (or standard input) up to a size limit; a FIFO,
a device or a socket is refused by name before it is opened for reading, so
nothing blocks or streams forever. Writes go to a staging folder beside the
target and are renamed into place; several files (a certificate and its key)
land together or not at all, under a lock on their folder, so concurrent
writers never leave a mixed pair. Private keys are 0600 from their first byte.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import grp
import os
import pwd
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from runbook.errors import (
    CannotWrite,
    InputError,
    InputTooLarge,
    NotRegularFile,
    RefusingToOverwrite,
)

KiB, MiB = 1024, 1024 * 1024
PEM_LIMIT = 1 * MiB  # certificates, chains, keys: a long chain is a few KiB
CONFIG_LIMIT = 4 * MiB
LOG_LIMIT = 16 * MiB

StrPath = str | os.PathLike[str]


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "FIFO (named pipe)"), (stat.S_ISCHR, "character device"),
                       (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket"),
                       (stat.S_ISDIR, "directory")):
        if test(mode):
            return name
    return "special file"


def _read_error(exc: OSError, p: Path, what: str) -> InputError:
    """A named InputError for an OS error met while opening or reading `p`."""
    code = exc.errno
    if code == errno.ENOENT:
        return InputError(f"{what} {p} does not exist", fix="check the path", path=str(p))
    if code == errno.EISDIR:
        return InputError(f"{what} {p} is a directory", fix="name the file inside it",
                          path=str(p))
    if code in (errno.EACCES, errno.EPERM):
        return InputError(
            f"{what} {p} is not readable by this user",
            fix=f"run as a user that can read it, or: sudo chmod o+r {p} (certificates only)",
            path=str(p))
    if code == errno.ENOTDIR:
        return InputError(f"{what} {p}: a part of the path is a file, not a folder",
                          fix="check the path", path=str(p))
    if code == errno.ELOOP:
        return InputError(f"{what} {p}: too many symbolic links (a loop?)",
                          fix=f"check the links: namei -l {p}", path=str(p))
    if code == errno.ENAMETOOLONG:
        return InputError(f"{what} path is too long ({len(str(p))} characters)",
                          fix="use a shorter path", path=str(p)[:80])
    return InputError(f"{what} {p} cannot be read: {exc.strerror or exc}",
                      fix="check the file; copy it to a regular file first if it is special",
                      path=str(p))


def read_input(path: StrPath, what: str, *, limit: int = PEM_LIMIT) -> bytes:
    """The bytes of a regular file the user named, at most `limit` of them.

    Special files are refused before they are opened for reading (a FIFO
    would block, /dev/zero never ends); OS errors become InputError.
    """
    p = Path(path)
    try:
        st = os.stat(p)
    except (OSError, ValueError) as exc:
        if isinstance(exc, ValueError):  # an embedded NUL byte
            raise InputError(f"{what} path {str(p)!r} is not a valid path",
                             fix="check the path", path=repr(str(p))) from None
        raise _read_error(exc, p, what) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{what} {p} is a directory", fix="name the file inside it",
                         path=str(p))
    if not stat.S_ISREG(st.st_mode):
        raise NotRegularFile(f"{what} {p} is a {_kind(st.st_mode)}, not a regular file",
                             fix=f"copy it to a file first (cat {p} > file) and name that file",
                             path=str(p))
    if st.st_size > limit:
        raise InputTooLarge(f"{what} {p} is {st.st_size:,} bytes, over the {limit:,}-byte limit",
                            fix=f"is this the right file? A {what} is far smaller",
                            path=str(p))
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise _read_error(exc, p, what) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped since the stat above
            raise NotRegularFile(f"{what} {p} is not a regular file",
                                 fix="name a regular file", path=str(p))
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(limit + 1)  # /proc files say size 0: bound the read itself
    except OSError as exc:
        raise _read_error(exc, p, what) from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise InputTooLarge(f"{what} {p} is over the {limit:,}-byte limit",
                            fix=f"is this the right file? A {what} is far smaller", path=str(p))
    return data


def read_stdin(what: str, *, limit: int) -> bytes:
    """Standard input, at most `limit` bytes."""
    data = sys.stdin.buffer.read(limit + 1)
    if len(data) > limit:
        raise InputTooLarge(f"{what} on standard input is over the {limit:,}-byte limit",
                            fix="pass the lines that matter: tail -n 10000 FILE | runbook doctor")
    return data


def _write_error(exc: OSError, target: Path) -> InputError:
    folder = target.parent
    code = exc.errno
    if code == errno.ENOENT and not folder.is_dir():
        return CannotWrite(f"directory {folder} does not exist",
                           fix=f"create it first: mkdir -p {folder}", path=str(target))
    if code in (errno.EACCES, errno.EPERM):
        return CannotWrite(f"cannot write {target}: {exc.strerror}",
                           fix=f"write as a user allowed to, or check for an immutable "
                               f"folder (lsattr -d {folder})", path=str(target))
    if code == errno.EROFS:
        return CannotWrite(f"cannot write {target}: the file system is read-only",
                           fix="choose a writable folder (--out)", path=str(target))
    if code == errno.ENAMETOOLONG:
        return CannotWrite(f"cannot write {str(target)[:80]}...: the name is too long",
                           fix="use a shorter name or path", path=str(target)[:80])
    if code == errno.ENOTDIR:
        return CannotWrite(f"cannot write {target}: a part of the path is a file, not a folder",
                           fix="choose a folder (--out)", path=str(target))
    if code == errno.EISDIR:
        return CannotWrite(f"cannot write {target}: it is a directory",
                           fix="choose another name (--name)", path=str(target))
    return CannotWrite(f"cannot write {target}: {exc.strerror or exc}",
                       fix="choose an ordinary, writable folder (--out)", path=str(target))


@contextlib.contextmanager
def _locked(folders: Sequence[Path]) -> Iterator[None]:
    """An exclusive flock on each folder (in path order, so two writers never deadlock)."""
    with contextlib.ExitStack() as stack:
        for folder in sorted(set(folders)):
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            stack.callback(os.close, fd)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield


def _write_new(path: Path, data: bytes, mode: int, owner: tuple[int, int] | None) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    with os.fdopen(fd, "wb") as fh:
        if owner is not None:
            os.fchown(fh.fileno(), *owner)
        os.fchmod(fh.fileno(), mode)  # the umask may have removed bits we want (0644)
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _refuse(target: Path, appeared: bool = False) -> RefusingToOverwrite:
    return RefusingToOverwrite(
        f"{target} {'appeared while writing it' if appeared else 'already exists'}",
        fix="choose another path, or pass --force to replace it", path=str(target))


def write_together(files: Sequence[tuple[StrPath, bytes, int]], *, overwrite: bool,
                   owners: dict[Path, tuple[int, int]] | None = None) -> list[Path]:
    """Write every (path, data, mode) or none of them; `owners` maps a path to (uid, gid).

    Each file is written in full into a staging folder beside its target,
    then all are renamed into place under a lock on their folders; if one
    rename fails (or Ctrl-C arrives), the ones done are rolled back. Without
    `overwrite` no existing file is replaced (os.link refuses, even for a
    file that appears meanwhile).
    """
    targets = [Path(p) for p, _, _ in files]
    if not overwrite:
        for target in targets:  # check all before writing any
            if os.path.lexists(target):
                raise _refuse(target)
    for folder in {t.parent for t in targets}:
        if not folder.is_dir():
            raise CannotWrite(f"directory {folder} does not exist",
                              fix=f"create it first: mkdir -p {folder}", path=str(folder))
    staging: dict[Path, Path] = {}
    current = targets[0]
    try:
        with _locked([t.parent for t in targets]):
            for folder in {t.parent for t in targets}:
                current = next(t for t in targets if t.parent == folder)
                staging[folder] = Path(tempfile.mkdtemp(prefix=".runbook-", dir=folder))
            staged = []
            for (_, data, mode), target in zip(files, targets, strict=True):
                current = target
                tmp = staging[target.parent] / target.name
                _write_new(tmp, data, mode, (owners or {}).get(target))
                staged.append((tmp, target))
            _commit(staged, staging, overwrite=overwrite)
    except OSError as exc:
        raise _write_error(exc, current) from None
    finally:
        for folder in staging.values():
            shutil.rmtree(folder, ignore_errors=True)
    return targets


def _commit(staged: list[tuple[Path, Path]], staging: dict[Path, Path], *,
            overwrite: bool) -> None:
    done: list[tuple[Path, Path | None]] = []  # (target, backup of what it replaced)
    try:
        for n, (tmp, target) in enumerate(staged):
            backup = None
            if overwrite:
                if os.path.lexists(target) and not target.is_dir():
                    backup = staging[target.parent] / f"old-{n}"
                    os.link(target, backup, follow_symlinks=False)
                os.replace(tmp, target)
            else:
                try:
                    os.link(tmp, target)
                except FileExistsError:
                    raise _refuse(target, appeared=True) from None
            done.append((target, backup))
    except BaseException:
        for target, backup in reversed(done):
            with contextlib.suppress(OSError):
                if backup is not None:
                    os.replace(backup, target)
                else:
                    os.unlink(target)
        raise


def write_file(path: StrPath, data: bytes, *, mode: int, overwrite: bool) -> Path:
    """Write `data` to `path` atomically with permission bits `mode`."""
    return write_together([(path, data, mode)], overwrite=overwrite)[0]


def write_private(path: StrPath, data: bytes, *, overwrite: bool = False) -> Path:
    return write_file(path, data, mode=0o600, overwrite=overwrite)


def write_public(path: StrPath, data: bytes, *, overwrite: bool = False) -> Path:
    return write_file(path, data, mode=0o644, overwrite=overwrite)


# --- who can read what ----------------------------------------------------------

def _groups(uid: int) -> set[int]:
    try:
        user = pwd.getpwuid(uid)
    except (KeyError, OverflowError):
        return {uid}  # unknown on this host: images use a group with the same id
    return {user.pw_gid} | {g.gr_gid for g in grp.getgrall() if user.pw_name in g.gr_mem}


def read_obstacle(path: StrPath, uid: int, *, mounted: StrPath | None = None) -> str | None:
    """None when user `uid` can open `path` for reading; else what stops it.

    Names the real obstacle: a parent folder uid cannot traverse (a
    `mktemp -d` folder is 0700) or the file's own mode and owner. With
    `mounted` (a folder bind-mounted into a container), only that folder and
    those below it count: the container does not see the ones above.
    """
    if uid == 0:
        return None
    gids = _groups(uid)

    def allowed(st: os.stat_result, owner_bit: int, group_bit: int, other_bit: int) -> bool:
        if st.st_uid == uid:
            return bool(st.st_mode & owner_bit)
        if st.st_gid in gids:
            return bool(st.st_mode & group_bit)
        return bool(st.st_mode & other_bit)

    try:
        resolved = Path(path).resolve()
        top = Path(mounted).resolve() if mounted is not None else None
        for parent in reversed(resolved.parents):
            if top is not None and parent != top and top not in parent.parents:
                continue
            st = parent.stat()
            if not allowed(st, stat.S_IXUSR, stat.S_IXGRP, stat.S_IXOTH):
                return (f"folder {parent} (mode {stat.S_IMODE(st.st_mode):04o}, owner uid "
                        f"{st.st_uid}) is not traversable by uid {uid}")
        st = resolved.stat()
    except (OSError, RuntimeError) as exc:
        return f"cannot be examined: {exc}"
    if not allowed(st, stat.S_IRUSR, stat.S_IRGRP, stat.S_IROTH):
        return (f"file mode {stat.S_IMODE(st.st_mode):04o}, owner uid {st.st_uid}, group "
                f"{st.st_gid}, does not let uid {uid} read it")
    return None


def can_read(path: StrPath, uid: int) -> bool:
    """Whether user `uid` could open `path` for reading (including its folders)."""
    return read_obstacle(path, uid) is None


def readable_fix(path: StrPath, uid: int, *, private: bool,
                 mounted: StrPath | None = None) -> str:
    """The command that lets `uid` read `path`, for the obstacle that stops it."""
    obstacle = read_obstacle(path, uid, mounted=mounted) or ""
    if obstacle.startswith("folder "):
        folder = obstacle.split(" ", 2)[1]
        return (f"let influxd enter the folder: chmod o+x {folder} (or keep the files in a "
                f"folder it can enter, e.g. /etc/ssl/influxdb)")
    return f"chown {uid}:{uid} {path} && chmod {'600' if private else '644'} {path}"
