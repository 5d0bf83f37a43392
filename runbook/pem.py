"""Moved to runbook.tls.pem."""

# Old path kept for runbook/deploy_hook.py, which another change rewrites into
# runbook/install.py: delete this module once that lands (issue 26).
from runbook.tls.pem import key_in_certificate, load_certificates, private_key_labels, serial_hex

__all__ = ["key_in_certificate", "load_certificates", "private_key_labels", "serial_hex"]
