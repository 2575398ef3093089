"""The handler rows of site load management."""

SITE_ROUTES: list = []
