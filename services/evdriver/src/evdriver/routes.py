"""Station -> CSMS actions this service handles, and the answers to its calls it acts on.

RequestStartTransaction, RequestStopTransaction, UnlockConnector and ClearCache need no
row: the generated message API sends them and returns the station's answer.
"""

from csms_runtime.handlers import RouteTable, answered, route

from evdriver.handlers.authorize import authorize
from evdriver.handlers.cancel_reservation import cancel_reservation_answered
from evdriver.handlers.get_local_list_version import get_local_list_version_answered
from evdriver.handlers.reservation_status_update import reservation_status_update
from evdriver.handlers.reserve_now import reserve_now_answered
from evdriver.handlers.send_local_list import send_local_list_answered

ROUTES = RouteTable(
    [
        route("Authorize", authorize),
        route("ReservationStatusUpdate", reservation_status_update),
        answered("SendLocalList", send_local_list_answered),
        answered("GetLocalListVersion", get_local_list_version_answered),
        answered("ReserveNow", reserve_now_answered),
        answered("CancelReservation", cancel_reservation_answered),
    ]
)
