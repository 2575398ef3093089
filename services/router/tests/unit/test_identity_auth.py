import base64

import pytest
from router.auth import parse_basic
from router.identity import BadIdentity, station_id_from_path
from router.settings import Settings


@pytest.mark.parametrize(
    ("path", "station_id"),
    [
        ("/CS-1", "CS-1"),
        ("/ocpp/CS-1", "CS-1"),
        ("/ocpp/v201/CS%201", "CS 1"),
        ("/CS-1/", "CS-1"),
        ("/CS-1?x=1", "CS-1"),
        ("/" + "a" * 48, "a" * 48),
    ],
)
def test_station_id_is_the_last_segment_percent_decoded(path, station_id):
    assert station_id_from_path(path) == station_id


@pytest.mark.parametrize("path", ["/", "", "/" + "a" * 49, "/a:b", "/a%3Ab"])
def test_bad_identities(path):
    with pytest.raises(BadIdentity):
        station_id_from_path(path)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_parse_basic():
    assert parse_basic("Basic " + b64("CS-1:pw:with:colons")) == ("CS-1", "pw:with:colons")
    assert parse_basic("basic " + b64("CS-1:pw")) == ("CS-1", "pw")
    assert parse_basic(None) is None
    assert parse_basic("Bearer abc") is None
    assert parse_basic("Basic !!!") is None
    assert parse_basic("Basic " + b64("no-colon")) is None


def test_unknown_stations_refused_in_production(monkeypatch):
    monkeypatch.setenv("CSMS_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u:p@db/csms")
    with pytest.raises(ValueError, match="ROUTER_ALLOW_UNKNOWN_STATIONS"):
        Settings()
    monkeypatch.setenv("ROUTER_ALLOW_UNKNOWN_STATIONS", "false")
    assert Settings().router_allow_unknown_stations is False


def test_gateway_ids_differ_per_process_by_default():
    assert Settings().gateway_id != "" and Settings(gateway_id="gw-1").gateway_id == "gw-1"
