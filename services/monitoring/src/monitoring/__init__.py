"""The monitoring service: the OCPP 2.0.1 monitoring block.

Monitoring block: NotifyEvent; device-model variables and monitors (Set/GetVariables, variable monitoring).
Until its own issue lands, every station call of the block is answered with CALLERROR
NotSupported (a station never waits for a reply that cannot come), and the block's
CSMS-to-station calls already go through the generated message API and the call log.
"""
