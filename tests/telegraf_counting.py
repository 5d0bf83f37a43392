"""A Telegraf that keeps count: each metric goes both to InfluxDB and to a
file (outputs.file), so a test compares what Telegraf produced with what the
server stored, across a TLS switch, a rotation, a renewal or a rollout."""

from __future__ import annotations


def counting_config(url: str, *, token: str, org: str, bucket: str, out_file: str,
                    interval: str = "500ms", tls_ca: str | None = None,
                    note: str = "") -> str:
    """Telegraf's TOML: `mem` every `interval`, written to `out_file` and to
    `url`. `token` is written as given (a token, or `${INFLUX_TOKEN}`);
    `tls_ca` None leaves verification to the system store; `note` becomes a
    comment in the output section."""
    lines = [
        "[agent]",
        f'  interval = "{interval}"',
        f'  flush_interval = "{interval}"',
        "[[inputs.mem]]",
        "[[outputs.file]]",
        f'  files = ["{out_file}"]',
        "[[outputs.influxdb_v2]]",
        f'  urls = ["{url}"]',
        f'  token = "{token}"',
        f'  organization = "{org}"',
        f'  bucket = "{bucket}"',
    ]
    if tls_ca:
        lines.append(f'  tls_ca = "{tls_ca}"')
    lines += [f"  ## {line}" for line in note.splitlines()]
    return "\n".join(lines) + "\n"
