"""The InfluxDB TLS runbook's reader package: the `runbook` command (cli/),
certificates and what servers negotiate (tls/), pre-flight checks and
diagnoses (checks/), and results that render themselves (render.py)."""

__version__ = "0.1.0"
