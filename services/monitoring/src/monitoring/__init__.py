"""The monitoring service: the OCPP 2.0.1 monitoring block, and the owner of the device model.

It alone writes the stations' device models (ADR 0011): variables with their characteristics
and attribute values (and each value's history), learned from the NotifyReport parts the
reporting service publishes on csms.events.reporting, from the stations' answers to
GetVariables and SetVariables (in the unit of work that completes the call log, so an
operator who read the answer reads the value), from OCPP 1.6 stations' answers to
GetConfiguration and ChangeConfiguration (each key stored as the 2.0.1 variable ``keys16``
maps it to), and from NotifyEvents' actual values. Every
observation is ordered by when the router received it, so redelivered and reordered messages
leave the same model. It also keeps the stations' variable monitors (SetVariableMonitoring,
ClearVariableMonitoring, NotifyMonitoringReport parts), monitoring base and level, and the
NotifyEvent stream, which it publishes on csms.events.monitoring. The data API under
/data/monitoring reads all of it.
"""
