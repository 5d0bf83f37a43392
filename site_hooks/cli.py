"""MkDocs hook: the CLI page's reference section, written by click itself.

cli.md explains the commands in prose, with examples that run; where it
says `<!-- cli:reference -->`, this hook puts every command's `--help`,
rendered from the same click objects the `runbook` command uses, at 80
columns. The page and the help cannot disagree: there is nothing to keep
in sync by hand (tests/unit/test_cli_reference.py compares the two).
"""

from __future__ import annotations

from collections.abc import Iterator

import click

PAGE = "cli.md"
MARKER = "<!-- cli:reference -->"
WIDTH = 80  # the terminal's columns; click's text then fills 78 of them


def commands(group: click.Command, path: tuple[str, ...] = ("runbook",),
             ) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """Every command under `group`, depth first, in the order `--help` lists them."""
    yield path, group
    if isinstance(group, click.Group):
        ctx = click.Context(group, info_name=path[-1])
        for name in group.list_commands(ctx):
            sub = group.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                yield from commands(sub, (*path, name))


def help_text(path: tuple[str, ...]) -> str:
    """What `runbook ... --help` prints at WIDTH columns (COLUMNS=80)."""
    from runbook.cli import cli

    ctx = cli.make_context(path[0], [], resilient_parsing=True, terminal_width=WIDTH - 2,
                           max_content_width=WIDTH)
    command: click.Command = cli
    for name in path[1:]:
        sub = command.get_command(ctx, name) if isinstance(command, click.Group) else None
        if sub is None:
            raise ValueError(f"no command {' '.join(path)}")
        command = sub
        ctx = command.make_context(name, [], parent=ctx, resilient_parsing=True)
    return ctx.get_help()


def reference() -> str:
    from runbook.cli import cli

    parts = []
    for path, _ in commands(cli):
        parts.append(f"### `{' '.join(path)}`\n\n```text\n{help_text(path)}\n```\n")
    return "\n".join(parts)


def on_page_markdown(markdown: str, page, **_) -> str:
    if page.file.src_path != PAGE:
        return markdown
    if MARKER not in markdown:
        raise ValueError(f"{PAGE} lacks the marker {MARKER}")
    return markdown.replace(MARKER, reference())
