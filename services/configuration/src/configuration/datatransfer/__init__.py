"""DataTransfer (OCPP P use cases): answered per vendorId/messageId, validated against
registered JSON schemas, stored and published on csms.events.datatransfer."""
