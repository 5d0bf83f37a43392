"""The lab: Docker-only tools for this repository (demo, bench, server, trust
matrix). Never shipped in the reader's `runbook` (the pyz or the wheel)."""
