#!/usr/bin/env bash
# Lint the GitHub Actions workflows with actionlint, pinned in versions.env
# and built once from its Go module into the project's cache.
#   scripts/actionlint.sh [WORKFLOW.yml ...]   (default: .github/workflows/*.yml)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/versions.env"
tools=${RUNBOOK_CACHE:-$HOME/.cache/influx-tls-runbook}/tools
bin=$tools/actionlint-$ACTIONLINT_VERSION
if [[ ! -x $bin ]]; then
  echo "[actionlint] building $ACTIONLINT_VERSION from its Go module (once)" >&2
  mkdir -p "$tools"
  gobin=$(mktemp -d "$tools/gobin.XXXXXX")
  trap 'rm -rf "$gobin"' EXIT
  GOTOOLCHAIN=local GOBIN=$gobin go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
  mv "$gobin/actionlint" "$bin"
fi
cd "$here"
[[ $# -gt 0 ]] || set -- .github/workflows/*.yml
"$bin" -no-color "$@"
echo "[actionlint] $# workflow(s): no findings" >&2
