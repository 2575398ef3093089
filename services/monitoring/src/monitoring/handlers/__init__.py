"""One module per OCPP action handled by the monitoring service."""
