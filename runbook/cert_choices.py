"""The certificate choices the CLI offers (key types, validity), apart from
runbook.certs: the CLI's options need them at every start, and importing
cryptography for them made every command, `runbook wait` included, start
about 50 ms slower."""

KEY_TYPES = ("rsa2048", "rsa3072", "rsa4096", "p256", "p384")
DEFAULT_KEY_TYPE = "rsa2048"
DEFAULT_LEAF_DAYS = 397  # the longest validity browsers accept for a leaf
DEFAULT_CA_DAYS = 3650
MAX_DAYS = 36500
