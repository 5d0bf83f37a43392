"""The site's certificate folder as a store of pairs, swapped by one rename.

influxd reads two paths, DEST/server.crt and DEST/server.key. Two files
cannot be replaced by one rename, so both are symbolic links through one
more link, and that one is what a swap replaces:

    server.crt -> .live/server.crt      server.key -> .live/server.key
    .live      -> .pairs/SERIAL-HASH    (the pair influxd reads at its next start)
    previous   -> .pairs/SERIAL-HASH    (the pair to roll back to)
    .pairs/SERIAL-HASH/server.crt, server.key   written in .pairs/.new-*, then renamed
    .deploy-hook.lock                   flock: one install at a time on DEST

Relative links keep working inside a container that mounts DEST. A pair
folder gets its name only once complete and never changes after: at every
instant the two paths resolve to one complete pair. A folder in the old
layout (regular files, a real previous/ folder) is adopted without changing
what any path resolves to.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from runbook.errors import RunbookError

CERT_NAME, KEY_NAME, PREVIOUS = "server.crt", "server.key", "previous"
LIVE, PAIRS, LOCK = ".live", ".pairs", ".deploy-hook.lock"
STAGING_PREFIX = ".new-"
LOCK_POLL = 0.05


class InstallBusy(RunbookError):
    """Another install (runbook install or deploy-hook) holds the lock on this folder."""


HookBusy = InstallBusy  # its name before `runbook install` shared the lock


@dataclass(frozen=True)
class Pair:
    """A complete pair in its own folder (in .pairs, or an old-layout previous/)."""

    folder: Path

    @property
    def cert(self) -> Path:
        return self.folder / CERT_NAME

    @property
    def key(self) -> Path:
        return self.folder / KEY_NAME

    def leaf_der(self) -> bytes | None:
        """The DER of the first certificate in the pair's file; None if it has none."""
        from cryptography.hazmat.primitives.serialization import Encoding

        from runbook.errors import InputError
        from runbook.tls.pem import NotPem, load_certificates

        try:
            return load_certificates(self.cert)[0].public_bytes(Encoding.DER)
        except (NotPem, InputError, ValueError, IndexError):
            return None


def pair_name(cert: bytes, key: bytes) -> str:
    """A folder name that only these bytes get: the leaf's serial for people, a hash for us."""
    from cryptography import x509

    from runbook.tls.pem import pem_blocks, serial_hex

    digest = hashlib.sha256(cert + b"\0" + key).hexdigest()[:16]
    blocks = [b for label, b in pem_blocks(cert) if label == "CERTIFICATE"]
    try:
        serial = serial_hex(x509.load_pem_x509_certificate(blocks[0]).serial_number)
    except (ValueError, IndexError):
        serial = "unparsed"
    serial = serial.replace(":", "")
    return f"{serial[:40]}-{digest}"


def _exchange(a: Path, b: Path) -> bool:
    """renameat2(RENAME_EXCHANGE): swap two names at once; False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(a))


def _holds(folder: Path, cert: bytes, key: bytes) -> bool:
    try:
        return (folder / CERT_NAME).read_bytes() == cert and (folder / KEY_NAME).read_bytes() == key
    except OSError:
        return False


class PairStore:
    def __init__(self, dest: Path) -> None:
        self.dest = dest
        self.pairs = dest / PAIRS

    # --- the lock ----------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self, timeout: float) -> Iterator[None]:
        """Hold the folder's flock; wait up to `timeout` s for an install that holds it."""
        path = self.dest / LOCK
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise self._busy(path, fd, timeout) from None
                    time.sleep(LOCK_POLL)  # polling a lock with a deadline, not a readiness guess
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            yield
        finally:
            os.close(fd)  # closing releases the flock

    @staticmethod
    def _busy(path: Path, fd: int, timeout: float) -> InstallBusy:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
        return InstallBusy(f"another install or deploy hook (pid {holder}) holds {path}; "
                           f"waited {timeout:g}s",
                           fix="let it finish (certbot runs hooks one at a time; is a second "
                               "certbot or a manual run going on?), then run this again",
                           path=str(path))

    # --- what is where -------------------------------------------------------------

    def _linked_pair(self, link: Path) -> Pair | None:
        """The pair `link` points at: a symlink into .pairs, or an old-layout folder."""
        if link.is_symlink():
            target = (link.parent / os.readlink(link)).resolve()
            if target.parent == self.pairs.resolve() and target.is_dir():
                return Pair(target)
            return None
        if link.is_dir() and (link / CERT_NAME).is_file() and (link / KEY_NAME).is_file():
            return Pair(link)
        return None

    def live(self) -> Pair | None:
        return self._linked_pair(self.dest / LIVE)

    def previous(self) -> Pair | None:
        return self._linked_pair(self.dest / PREVIOUS)

    def known_pairs(self) -> list[Pair]:
        """Every complete pair on disk: live first, then previous, then the rest."""
        found = [p for p in (self.live(), self.previous()) if p is not None]
        if self.pairs.is_dir():
            for folder in sorted(self.pairs.iterdir()):
                if not folder.name.startswith(".") and Pair(folder) not in found:
                    found.append(Pair(folder))
        return found

    # --- writing pairs ----------------------------------------------------------------

    def clean_staging(self) -> None:
        """Remove half-written pairs of an interrupted run: nothing points at them."""
        if self.pairs.is_dir():
            for folder in self.pairs.glob(f"{STAGING_PREFIX}*"):
                shutil.rmtree(folder, ignore_errors=True)

    def forget_empty(self) -> None:
        """Remove .pairs if a refused first run left it empty."""
        with contextlib.suppress(OSError):
            self.pairs.rmdir()

    def staging(self) -> Path:
        self.pairs.mkdir(mode=0o755, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.pairs))
        folder.chmod(0o755)  # influxd's user must enter it
        return folder

    def commit(self, staging: Path) -> Pair:
        """Give a complete staged pair its final name (the same bytes keep the same folder)."""
        cert, key = (staging / CERT_NAME).read_bytes(), (staging / KEY_NAME).read_bytes()
        final = self.pairs / pair_name(cert, key)
        try:
            os.rename(staging, final)
        except OSError as exc:
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
            if _holds(final, cert, key):
                shutil.rmtree(staging, ignore_errors=True)  # already there, byte for byte
            else:  # changed in place (a `cp` through server.crt's link): the staged one wins
                if not _exchange(staging, final):
                    os.rename(final, self.pairs / f"{STAGING_PREFIX}stale-{final.name}")
                    os.rename(staging, final)
                self.clean_staging()
        return Pair(final)

    def _copy_pair(self, cert: Path, key: Path) -> Pair:
        """A pair folder holding what `cert` and `key` resolve to, modes and owners kept."""
        staging = self.staging()
        try:
            for source, name in ((key, KEY_NAME), (cert, CERT_NAME)):
                st = source.stat()
                data = source.read_bytes()
                fd = os.open(staging / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC,
                             0o600)
                with os.fdopen(fd, "wb") as fh:
                    with contextlib.suppress(PermissionError):  # not root: our own files
                        os.fchown(fh.fileno(), st.st_uid, st.st_gid)
                    os.fchmod(fh.fileno(), st.st_mode & 0o777)
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
            return self.commit(staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    def point(self, name: str, pair: Pair) -> None:
        """Make DEST/name a link to `pair` in one rename (an old-layout folder is
        exchanged with the link, then removed)."""
        link = self.dest / name
        tmp = self.dest / f".{name.lstrip('.')}.tmp-{os.getpid()}"
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        os.symlink(os.path.relpath(pair.folder, self.dest), tmp)
        if link.is_dir() and not link.is_symlink():
            if not _exchange(tmp, link):
                os.rename(link, self.pairs / f"{STAGING_PREFIX}old-{name.lstrip('.')}")
                os.rename(tmp, link)
                return
            shutil.rmtree(tmp, ignore_errors=True)
            return
        os.replace(tmp, link)

    def unlink_previous(self) -> None:
        """Drop a previous/ that holds no pair influxd could load (an older run's leftovers)."""
        link = self.dest / PREVIOUS
        if link.is_symlink():
            os.unlink(link)
        elif link.is_dir():
            shutil.rmtree(link, ignore_errors=True)

    # --- the old layout -----------------------------------------------------------------

    def _served_path_linked(self, name: str) -> bool:
        path = self.dest / name
        return path.is_symlink() and os.readlink(path) == f"{LIVE}/{name}"

    def adopt(self, step: Callable[[str], None] = lambda name: None) -> None:
        """Turn the old layout into this one; every path resolves as before throughout
        (`step` is told each path linked, for tests that interrupt in between)."""
        cert, key = self.dest / CERT_NAME, self.dest / KEY_NAME
        if all(self._served_path_linked(n) for n in (CERT_NAME, KEY_NAME)):
            return
        if cert.is_file() and key.is_file():  # what influxd reads now becomes a pair
            current = self._copy_pair(cert, key)
            if self.live() != current:
                self.point(LIVE, current)
        for name in (CERT_NAME, KEY_NAME):  # a lone file is no pair: it goes too
            if not self._served_path_linked(name):
                tmp = self.dest / f".{name}.tmp-{os.getpid()}"
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                os.symlink(f"{LIVE}/{name}", tmp)
                os.replace(tmp, self.dest / name)
                step(f"linked-{name}")
        old = self.dest / PREVIOUS
        if old.is_dir() and not old.is_symlink():
            kept = self.previous()
            if kept is None:
                return
            self.point(PREVIOUS, self._copy_pair(kept.cert, kept.key))

    def collect_garbage(self) -> None:
        """Remove pairs nothing points at (after a verified install)."""
        keep = {p.folder.resolve() for p in (self.live(), self.previous()) if p is not None}
        if not self.pairs.is_dir():
            return
        for folder in self.pairs.iterdir():
            if folder.resolve() not in keep:
                shutil.rmtree(folder, ignore_errors=True)
        for stray in self.dest.glob(".*.tmp-*"):
            with contextlib.suppress(OSError):
                os.unlink(stray)
