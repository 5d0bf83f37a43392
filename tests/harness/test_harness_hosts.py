"""Which host runs which block: front matter and host tabs (no Docker needed)."""

from __future__ import annotations

import pytest

from harness.pages import block_hosts
from harness.plugin import alone_hosts, page_hosts

PAGE = '''\
---
hosts: [package-trixie, docker-bookworm, binary-bookworm]
---
# A page

```bash
echo shared
```

=== "Linux package"

    ```bash
    systemctl restart influxdb
    ```

    === "Configuration file"

        ```bash
        echo nested variant, still the package host
        ```

=== "Docker"

    ```bash
    docker restart influxdb
    ```

    <!--
    ```bash
    echo hidden, docker only
    ```
    -->

=== "Binary"

    ```bash
    runuser -u influxdb -- influxd &
    ```

=== "Linux package or binary"

    ```bash
    systemctl reload-or-restart influxdb, shared by two hosts
    ```

=== "Command-line flags"

    ```bash
    echo a variant tab names no host: every host runs it
    ```

```bash
echo shared again
```
'''


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_front_matter_lists_the_hosts_of_a_page():
    assert page_hosts(PAGE) == ("package-trixie", "docker-bookworm", "binary-bookworm")


def test_a_page_runs_alone_on_every_host_it_declares_unless_it_says_fewer():
    assert alone_hosts(PAGE) == page_hosts(PAGE)
    fewer = PAGE.replace("---\n# ", "alone_on: [package-trixie]\n---\n# ", 1)
    assert alone_hosts(fewer) == ("package-trixie",)


@pytest.mark.parametrize("alone, message", [
    ("[docker-trixie]", "not in the page's hosts"),
    ("[]", "non-empty list"),
    ("package-trixie", "non-empty list"),
])
def test_alone_on_must_name_some_of_the_pages_own_hosts(alone, message):
    bad = PAGE.replace("---\n# ", f"alone_on: {alone}\n---\n# ", 1)
    with pytest.raises(pytest.UsageError, match=message):
        alone_hosts(bad)


def test_a_page_without_front_matter_runs_on_the_bookworm_binary_host():
    assert page_hosts("# Title\n\nText\n") == ("binary-bookworm",)


def test_every_host_name_says_its_install_method_and_debian_release():
    from harness.hosts import HOSTS

    assert all(name == f"{h.method}-{h.release}" for name, h in HOSTS.items())
    assert {h.release for h in HOSTS.values()} == {"bookworm", "trixie"}


def test_a_page_host_named_without_its_release_is_a_usage_error():
    with pytest.raises(pytest.UsageError, match="unknown host kind"):
        page_hosts("---\nhosts: [package]\n---\n# x\n")


def test_an_unknown_host_in_front_matter_is_a_usage_error():
    with pytest.raises(pytest.UsageError, match="unknown host kind"):
        page_hosts("---\nhosts: [rpm]\n---\n# x\n")


@pytest.mark.parametrize("needle, host", [
    ("systemctl restart influxdb", "package"),
    ("nested variant", "package"),
    ("docker restart influxdb", "docker"),
    ("hidden, docker only", "docker"),
    ("runuser -u influxdb", "binary"),
])
def test_blocks_inside_a_host_tab_belong_to_that_host(needle, host):
    assert block_hosts(PAGE)[line_of(PAGE, needle)] == {host}


def test_a_shared_tab_belongs_to_each_host_it_names():
    assert block_hosts(PAGE)[line_of(PAGE, "shared by two hosts")] == {"package", "binary"}


@pytest.mark.parametrize("needle", ["echo shared", "a variant tab names no host", "shared again"])
def test_blocks_outside_host_tabs_belong_to_every_host(needle):
    assert line_of(PAGE, needle) not in block_hosts(PAGE)
