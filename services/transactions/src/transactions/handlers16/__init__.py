"""One module per OCPP 1.6 action handled by the transactions service: thin translations onto
the 2.0.1 domain (``transactions.ocpp16`` says how; ADR 0014)."""
