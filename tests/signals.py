"""Child processes that a test interrupts with SIGINT, as Ctrl-C would.

A suite started in the background by a shell without job control (`make
test &`, some CI runners) inherits SIGINT *ignored*, and Python then keeps it
ignored: the child would never see the test's Ctrl-C. Reset it to the
default before the child starts, as a terminal's foreground job has it."""

from __future__ import annotations

import signal


def sigint_as_in_a_terminal() -> None:
    """preexec_fn for subprocess.Popen."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
