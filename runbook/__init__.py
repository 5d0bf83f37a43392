"""Helpers behind the InfluxDB TLS runbook: certificates, checks, probes, a
Dockerized TLS influxd, Telegraf configs and troubleshooting."""

__version__ = "0.1.0"
