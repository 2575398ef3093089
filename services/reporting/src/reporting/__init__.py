"""The reporting service: the OCPP 2.0.1 reporting block.

Stores what stations report and the CSMS requests they report under: device-model and
monitoring reports (NotifyReport, NotifyMonitoringReport) part by part, with each report's
completeness whatever order and however often its parts arrive, and publishes every part as
a ``csms_runtime.devicemodel.ReportPart`` on ``csms.events.reporting`` for the monitoring
service, which owns the device model (ADR 0011); log uploads (GetLog answers and their
LogStatusNotifications); security events, counted per type and criticality and published on
``csms.events.security``; customer information (CustomerInformation answers and the
NotifyCustomerInformation parts they bring). The answers to GetBaseReport, GetReport,
GetMonitoringReport, GetLog and CustomerInformation link a requestId to its request; the
message API allocates that requestId when the operator leaves it out. Its data API, under
``/data/reporting``, reads all of it back.
"""
