"""TLS on its own: certificates (one factory), PEM and names, the SSL contexts
(one place), what a server serves (probe, scan) and how it grades against a
Mozilla profile."""
