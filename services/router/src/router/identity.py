"""Station identity from the websocket URL: the last path segment, percent-decoded."""

from urllib.parse import unquote

MAX_ID_LENGTH = 48


class BadIdentity(ValueError):
    pass


def station_id_from_path(path: str) -> str:
    segment = path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    station_id = unquote(segment)
    if not station_id:
        raise BadIdentity("the URL must end with the station id")
    if len(station_id) > MAX_ID_LENGTH:
        raise BadIdentity(f"a station id has at most {MAX_ID_LENGTH} characters")
    if ":" in station_id:
        raise BadIdentity("a station id may not contain ':'")
    return station_id
