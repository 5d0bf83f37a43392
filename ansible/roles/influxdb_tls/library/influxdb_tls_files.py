#!/usr/bin/python
"""The host side of the TLS files, in one round trip each.

state=install:  `files`, a list of {path, content, mode, owner}: writes each
                file that differs (content, mode or owner); reports the paths
                it changed in `written`.
state=snapshot: `paths`: returns `files`, {path: {exists, content (base64),
                mode, uid, gid}}, what a rollback needs.
state=restore:  `files`, a snapshot: puts each file back as it was and
                removes those that did not exist.
state=settings: `path` and `settings` {key: TOML value}: edits a flat
                TOML file in place, like lineinfile: the line `key = ...`
                is replaced where it is, or appended when there is none
                (influxd refuses duplicate keys, so none is added). Mode and
                owner stay as they are.

Every write goes to a temp file in the same folder that is 0600 from its
first byte, gets its mode and owner, then is renamed over the old file: a key
is never readable by anyone else, not even half-written. Run it with no_log:
the contents include a private key.
"""

from __future__ import annotations

import base64
import grp
import json
import os
import pwd
import re
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule


def snapshot(path: str) -> dict:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return {"exists": False}
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"{path} is not a regular file")
    with open(path, "rb") as f:
        content = f.read()
    return {"exists": True, "content": base64.b64encode(content).decode(),
            "mode": f"{stat.S_IMODE(st.st_mode):04o}", "uid": st.st_uid, "gid": st.st_gid}


def write(path: str, want: dict, check_mode: bool) -> bool:
    """Make `path` what the snapshot-shaped `want` says; True if it changed."""
    have = snapshot(path)
    if not want["exists"]:
        if have["exists"] and not check_mode:
            os.unlink(path)
        return have["exists"]
    if {k: have.get(k) for k in want} == want:
        return False
    if check_mode:
        return True
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".tls-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(base64.b64decode(want["content"]))
            f.flush()
            os.fsync(f.fileno())
            os.fchown(f.fileno(), want["uid"], want["gid"])
            os.fchmod(f.fileno(), int(want["mode"], 8))
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return True


def wanted(spec: dict) -> dict:
    """An install entry in snapshot form."""
    owner = spec.get("owner") or "root"
    try:
        user = pwd.getpwnam(owner)
    except KeyError:
        raise ValueError(f"no user {owner!r} on this host (owner of {spec['path']})") from None
    group = spec.get("group")
    gid = grp.getgrnam(group).gr_gid if group else user.pw_gid
    content = spec["content"].encode()
    if not content.endswith(b"\n"):
        content += b"\n"
    return {"exists": True, "content": base64.b64encode(content).decode(),
            "mode": f"{int(str(spec['mode']), 8):04o}", "uid": user.pw_uid, "gid": gid}


def edit_settings(path: str, settings: dict) -> dict:
    """The snapshot-shaped new state of a TOML file with `settings` applied."""
    have = snapshot(path)
    if not have["exists"]:
        raise ValueError(f"{path} does not exist")
    lines = base64.b64decode(have["content"]).decode().splitlines()
    for key, value in settings.items():
        line = f"{key} = {json.dumps(str(value))}"
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
        at = [i for i, text in enumerate(lines) if pattern.match(text)]
        if at:
            lines[at[0]] = line
        else:
            lines.append(line)
    content = ("\n".join(lines) + "\n").encode()
    return {**have, "content": base64.b64encode(content).decode()}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "state": {"type": "str", "choices": ["install", "snapshot", "restore", "settings"],
                      "required": True},
            "paths": {"type": "list", "elements": "path", "default": []},
            "files": {"type": "raw", "default": {}},
            "path": {"type": "path"},
            "settings": {"type": "dict", "default": {}},
        },
        supports_check_mode=True,
    )
    state, files = module.params["state"], module.params["files"]
    try:
        if state == "snapshot":
            module.exit_json(changed=False, files={p: snapshot(p) for p in module.params["paths"]})
        if state == "install":
            plan = {spec["path"]: wanted(spec) for spec in files}
        elif state == "settings":
            path = module.params["path"]
            plan = {path: edit_settings(path, module.params["settings"])}
        else:
            plan = files
        written = [p for p, want in plan.items() if write(p, want, module.check_mode)]
        module.exit_json(changed=bool(written), written=written)
    except (OSError, ValueError, KeyError) as exc:
        module.fail_json(msg=f"{type(exc).__name__}: {exc}")


if __name__ == "__main__":
    main()
