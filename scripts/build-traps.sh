# Sourced by the build scripts once they define say(): a command that fails
# under set -e says where, instead of ending the build silently; Ctrl-C or a
# stop ends through `exit`, so the scripts' EXIT traps clean up.
trap 'say "ERROR: line $LINENO failed (exit $?): $BASH_COMMAND"' ERR
trap 'exit 130' INT
trap 'exit 143' TERM
