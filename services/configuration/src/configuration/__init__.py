"""The configuration service: the OCPP 2.0.1 configuration block.

Answers BootNotification and Heartbeat, keeps the station registry (identity, boot data,
the boot status and heartbeat interval an operator commissioned, the Basic-auth password
hash the router checks) and each station's online state from ocpp.connections, and
sends Reset, ChangeAvailability, TriggerMessage and the block's other calls through the
generated message API.
"""
