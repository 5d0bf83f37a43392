"""The certificate choices the CLI offers (key types, validity), apart from
runbook.tls.certs: the CLI's options need them at every start, and importing
cryptography for them made every command, `runbook wait` included, start
about 50 ms slower."""

KEY_TYPES = ("rsa2048", "rsa3072", "rsa4096", "p256", "p384")
DEFAULT_KEY_TYPE = "rsa2048"
# 365: inside Mozilla's intermediate and old profiles (at most 366 days), the
# profile the site recommends, so `runbook grade` passes a default certificate;
# also under the CA/Browser Forum's 398 (what browsers accept from public CAs).
# modern wants 90: pass --days 90 and renew on a schedule.
DEFAULT_LEAF_DAYS = 365
DEFAULT_CA_DAYS = 3650
MAX_DAYS = 36500
