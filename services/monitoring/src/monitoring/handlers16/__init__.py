"""OCPP 1.6 answer handlers of the monitoring block: GetConfiguration and ChangeConfiguration,
1.6's GetVariables and SetVariables, written into the same device model through
``monitoring.keys16`` (one module per action)."""
