"""Station -> CSMS actions this service handles, and the answers to its calls it acts on.

RequestStartTransaction, RequestStopTransaction, UnlockConnector and ClearCache need no
row: the generated message API sends them and returns the station's answer. Nor do their
OCPP 1.6 counterparts (RemoteStartTransaction, RemoteStopTransaction, UnlockConnector,
ClearCache). The 1.6 rows translate onto the 2.0.1 handlers and ports (``handlers16``).
"""

from csms_runtime.handlers import RouteTable, answered, route

from evdriver.handlers.authorize import authorize
from evdriver.handlers.cancel_reservation import cancel_reservation_answered
from evdriver.handlers.get_local_list_version import get_local_list_version_answered
from evdriver.handlers.reservation_status_update import reservation_status_update
from evdriver.handlers.reserve_now import reserve_now_answered
from evdriver.handlers.send_local_list import send_local_list_answered
from evdriver.handlers16 import remote_start_transaction, reserve_now
from evdriver.handlers16.authorize import authorize_16
from evdriver.handlers16.cancel_reservation import cancel_reservation_16_answered
from evdriver.handlers16.get_local_list_version import get_local_list_version_16_answered
from evdriver.handlers16.send_local_list import send_local_list_16_answered

V16 = "1.6"

ROUTES = RouteTable(
    [
        route("Authorize", authorize),
        route("ReservationStatusUpdate", reservation_status_update),
        answered("SendLocalList", send_local_list_answered),
        answered("GetLocalListVersion", get_local_list_version_answered),
        answered("ReserveNow", reserve_now_answered),
        answered("CancelReservation", cancel_reservation_answered),
        # OCPP 1.6
        route("Authorize", authorize_16, protocol=V16),
        answered("SendLocalList", send_local_list_16_answered, protocol=V16),
        answered("GetLocalListVersion", get_local_list_version_16_answered, protocol=V16),
        answered("ReserveNow", reserve_now.reserve_now_16_answered, protocol=V16),
        answered("CancelReservation", cancel_reservation_16_answered, protocol=V16),
    ]
)

CALL_CHECKS = {
    (V16, "RemoteStartTransaction"): remote_start_transaction.check,
    (V16, "ReserveNow"): reserve_now.check,
}
"""What the message API checks before sending a call (BlockService ``call_checks``)."""
