"""Switch the reader's own Telegraf output to HTTPS, in place.

A reader's telegraf.conf holds their inputs, their other outputs and their
comments. Only the one `[[outputs.influxdb_v2]]` changes: its URLs go from
`http://` to `https://`, `tls_ca` names the CA, and an
`insecure_skip_verify = true` that the CA makes pointless goes. Everything
else stays byte for byte (tomlkit keeps formatting and comments).

The file is replaced atomically (a sibling temporary file, fsync, rename)
with the original's mode and owner, after a copy of the original is kept
beside it. A second run finds nothing to change and writes nothing. A file
that is ambiguous (no influxdb_v2 output, or several), not TOML, or marked
read-only is refused with a named finding, and nothing is written.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.exceptions
from tomlkit.items import AoT, Array, Item, Table

from runbook.errors import CannotWrite, InputError
from runbook.files import CONFIG_LIMIT, read_input


class EditRefused(InputError):
    """The file cannot be edited safely; `finding` names why (e.g. telegraf-several-outputs)."""

    finding: str = "telegraf-edit-refused"


@dataclass
class Edit:
    """The edited text and what changed, one line per change (empty: nothing to do)."""

    text: str
    changes: list[str] = field(default_factory=list)


def _refuse(finding: str, message: str, fix: str, path: str) -> EditRefused:
    return EditRefused(f"[{finding}] {message}", fix=fix, finding=finding, path=path)


def _the_output(doc: tomlkit.TOMLDocument, name: str) -> Table:
    """The one [[outputs.influxdb_v2]] table, or a refusal that says why not."""
    outputs: Any = doc.get("outputs")
    section = outputs.get("influxdb_v2") if isinstance(outputs, dict) else None
    if section is None:
        raise _refuse("telegraf-no-influxdb-v2", f"{name} has no [[outputs.influxdb_v2]] section",
                      "this file does not write to InfluxDB v2: add the section (see "
                      "runbook telegraf-config --ca CA) or name the file that has it", name)
    if isinstance(section, Table) or not isinstance(section, AoT | list):
        raise _refuse("telegraf-bad-shape", f"{name}: outputs.influxdb_v2 is not written as "
                      "[[outputs.influxdb_v2]]", "write it as an array of tables", name)
    if len(section) != 1:
        raise _refuse("telegraf-several-influxdb-v2",
                      f"{name} has {len(section)} [[outputs.influxdb_v2]] sections; which one "
                      "writes to this server is not clear",
                      "edit the one for this server by hand (urls = https://..., tls_ca = CA), "
                      "or move the others to files of their own", name)
    return section[0]


def _parse(text: str, name: str, kind: str, reader: str) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(text)
    except (tomlkit.exceptions.TOMLKitError, ValueError, RecursionError) as exc:
        detail = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise _refuse(f"{kind}-not-toml", f"{name} is not valid TOML: {detail}",
                      f"fix the line it names first; {reader} cannot load this file either",
                      name) from None


def set_keys(text: str, keys: dict[str, str], *, name: str = "config.toml") -> Edit:
    """The text of a flat TOML file (influxd's config.toml) with each top-level key set
    where it is, or added once: influxd refuses a file with a key twice."""
    doc = _parse(text, name, "config", "influxd")
    edit = Edit(text)
    for key, value in keys.items():
        before = doc.get(key)
        if before == value:
            continue
        doc[key] = value
        edit.changes.append(f"{key}: {before} -> {value}" if before is not None
                            else f"{key}: set to {value}")
    if edit.changes:
        edit.text = tomlkit.dumps(doc)
    return edit


def switch_to_https(text: str, *, ca_file: str, url: str | None = None,
                    name: str = "telegraf.conf") -> Edit:
    """The text with the one influxdb_v2 output on https:// (or on `url` alone) and
    trusting `ca_file`."""
    doc = _parse(text, name, "telegraf", "Telegraf")
    out = _the_output(doc, name)
    urls = out.get("urls")
    if isinstance(urls, str) or not isinstance(urls, Array | list) or not urls \
            or not all(isinstance(u, str) for u in urls):
        raise _refuse("telegraf-bad-urls", f"{name}: urls = {str(urls)[:80]!r} is not a list of "
                      "URLs", 'write urls = ["http://HOST:8086"] first', name)
    edit = Edit(text)
    if url is not None:
        if not url.startswith("https://"):
            raise _refuse("telegraf-bad-urls", f"{url[:80]!r} is not an https:// URL",
                          "give Telegraf's new URL as https://HOST:8086", name)
        if list(urls) != [url]:
            edit.changes.append(f"urls: {', '.join(urls)} -> {url}")
            out["urls"] = [url]
        urls = []
    for i, url in enumerate(list(urls)):
        if url.startswith("http://"):
            new = "https://" + url.removeprefix("http://")
            urls[i] = new
            edit.changes.append(f"urls: {url} -> {new}")
        elif not url.startswith("https://"):
            raise _refuse("telegraf-bad-urls", f"{name}: {url[:80]!r} is neither http:// nor "
                          "https://", "write the server's address as http(s)://HOST:8086", name)
    if out.get("tls_ca") != ca_file:
        before = out.get("tls_ca")
        if before is None:
            value = tomlkit.item(ca_file)
            urls_item = out.value.item("urls")
            if isinstance(urls_item, Item):  # line up with urls
                value.trivia.indent = urls_item.trivia.indent
            out.append("tls_ca", value)
        else:
            out["tls_ca"] = ca_file
        edit.changes.append(f"tls_ca: {before} -> {ca_file}" if before is not None
                            else f"tls_ca: set to {ca_file}")
    if "insecure_skip_verify" in out:
        del out["insecure_skip_verify"]
        edit.changes.append("insecure_skip_verify: removed (Telegraf verifies against tls_ca)")
    if edit.changes:
        edit.text = tomlkit.dumps(doc)
    return edit


def backup_name(path: Path, now: float | None = None) -> Path:
    """`telegraf.conf.before-https-20261206T2103`: a free name beside `path`."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now))
    candidate = path.with_name(f"{path.name}.before-https-{stamp}")
    n = 1
    while os.path.lexists(candidate):
        n += 1
        candidate = path.with_name(f"{path.name}.before-https-{stamp}-{n}")
    return candidate


def _write_like(target: Path, data: bytes, like: os.stat_result) -> Path:
    """`data` into a new sibling file with `like`'s mode and owner; returns its path."""
    tmp = target.with_name(f".{target.name}.runbook-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            with contextlib.suppress(PermissionError):  # not root: keep our own owner
                os.fchown(fh.fileno(), like.st_uid, like.st_gid)
            os.fchmod(fh.fileno(), stat.S_IMODE(like.st_mode))
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return tmp


@dataclass
class FileEdit:
    path: Path
    changes: list[str]
    backup: Path | None


def edit_file(path: str | os.PathLike[str], *, ca_file: str | None = None,
              url: str | None = None, keys: dict[str, str] | None = None,
              dry_run: bool = False) -> FileEdit:
    """Switch the file's influxdb_v2 output to HTTPS in place (see the module docstring);
    with `keys`, set those keys of a flat TOML file instead (influxd's config.toml).
    `dry_run`: read, check and plan the same way, and write nothing (a preflight
    that refuses exactly what the edit would refuse)."""
    given = Path(path)
    kind, what = ("config", "influxd configuration") if keys is not None \
        else ("telegraf", "Telegraf config")
    target = Path(os.path.realpath(given))  # a symlinked config: edit what it points at
    text = read_input(given, what, limit=CONFIG_LIMIT)
    st = os.stat(target)
    if not st.st_mode & 0o222:
        raise _refuse(f"{kind}-read-only",
                      f"{given} is read-only (mode {stat.S_IMODE(st.st_mode):04o}): someone "
                      "marked it not to be changed", f"if you mean to change it: chmod u+w "
                      f"{given}, then run this again", str(given))
    try:
        decoded = text.decode()
    except UnicodeDecodeError:
        raise _refuse(f"{kind}-not-toml", f"{given} is not UTF-8 text",
                      f"name the {what} file", str(given)) from None
    if keys is not None:
        edit = set_keys(decoded, keys, name=str(given))
    elif ca_file is not None:
        edit = switch_to_https(decoded, ca_file=ca_file, url=url, name=str(given))
    else:
        raise TypeError("edit_file needs ca_file or keys")
    if dry_run or not edit.changes:
        return FileEdit(given, edit.changes, None)
    folder = target.parent
    try:
        lock = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise CannotWrite(f"cannot open {folder}: {exc.strerror}", fix="check the folder",
                          path=str(given)) from None
    tmp: Path | None = None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # Under the lock: a second run beside this one must see the file as it now is.
        if target.read_bytes() != text:
            raise _refuse(f"{kind}-changed-meanwhile", f"{given} changed while it was being "
                          "edited (another editor or a second run?)", "run this again", str(given))
        backup = backup_name(target)
        backup_tmp = _write_like(backup, text, st)
        os.rename(backup_tmp, backup)
        tmp = _write_like(target, edit.text.encode(), st)
        os.rename(tmp, target)
        tmp = None
        dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            raise CannotWrite(f"cannot write beside {given}: {exc.strerror}",
                              fix="run as the user that owns the file (root), on a writable "
                                  "file system; check lsattr for an immutable flag",
                              path=str(given)) from None
        raise CannotWrite(f"cannot write {given}: {exc.strerror or exc}",
                          fix="check the folder and the disk", path=str(given)) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                tmp.unlink()
        os.close(lock)
    return FileEdit(given, edit.changes, backup)


def restore(done: FileEdit) -> None:
    """Put the file `done` changed back as it was: its backup renamed over it (atomic)."""
    if done.backup is None:
        return
    target = Path(os.path.realpath(done.path))
    try:
        os.rename(done.backup, target)
    except OSError as exc:
        raise CannotWrite(f"cannot put {done.path} back from {done.backup}: "
                          f"{exc.strerror or exc}",
                          fix=f"copy it back by hand: cp -p {done.backup} {done.path}",
                          path=str(done.path)) from None
    done.backup = None
