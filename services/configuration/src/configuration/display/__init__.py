"""Display messages (OCPP O use cases): the messages stations accepted, reconciled with what
they report in NotifyDisplayMessages."""
