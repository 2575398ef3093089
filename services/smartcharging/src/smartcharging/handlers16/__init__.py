"""OCPP 1.6 answer handlers of the smartcharging service, one module per action: thin
translations (``smartcharging.profiles16``) onto the 2.0.1 domain, ports and tables."""
