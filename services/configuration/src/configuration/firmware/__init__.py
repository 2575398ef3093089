"""Firmware (OCPP L use cases): images uploaded to and served by the CSMS, UpdateFirmware and
PublishFirmware followed to a final state from the stations' status notifications, and
campaigns that roll one image out to many stations in waves."""
