"""Station -> CSMS actions this service handles, and the answers to its calls it acts on.

Every station call of the reporting block is handled here; every CSMS call of the block has
an answer handler (a CALLRESULT and a CALLERROR are both kept with the request), in OCPP
2.0.1 and in 1.6 (``handlers16``: translations onto the same domain).
"""

from csms_runtime.handlers import RouteTable, answered, route

from reporting.handlers.customer_information import (
    customer_information_answered,
    customer_information_failed,
)
from reporting.handlers.get_base_report import get_base_report_answered, get_base_report_failed
from reporting.handlers.get_log import get_log_answered, get_log_failed
from reporting.handlers.get_monitoring_report import (
    get_monitoring_report_answered,
    get_monitoring_report_failed,
)
from reporting.handlers.get_report import get_report_answered, get_report_failed
from reporting.handlers.log_status_notification import log_status_notification
from reporting.handlers.notify_customer_information import notify_customer_information
from reporting.handlers.notify_monitoring_report import notify_monitoring_report
from reporting.handlers.notify_report import notify_report
from reporting.handlers.security_event_notification import security_event_notification
from reporting.handlers16.diagnostics_status_notification import diagnostics_status_notification
from reporting.handlers16.get_diagnostics import get_diagnostics_answered, get_diagnostics_failed
from reporting.handlers16.get_log import get_log_answered_16, get_log_failed_16
from reporting.handlers16.log_status_notification import log_status_notification_16
from reporting.handlers16.security_event_notification import security_event_notification_16

V16 = "1.6"

ROUTES = RouteTable(
    [
        route("NotifyReport", notify_report),
        route("NotifyMonitoringReport", notify_monitoring_report),
        route("LogStatusNotification", log_status_notification),
        route("SecurityEventNotification", security_event_notification),
        route("NotifyCustomerInformation", notify_customer_information),
        answered("GetBaseReport", get_base_report_answered, errors=get_base_report_failed),
        answered("GetReport", get_report_answered, errors=get_report_failed),
        answered(
            "GetMonitoringReport",
            get_monitoring_report_answered,
            errors=get_monitoring_report_failed,
        ),
        answered("GetLog", get_log_answered, errors=get_log_failed),
        answered(
            "CustomerInformation",
            customer_information_answered,
            errors=customer_information_failed,
        ),
        # OCPP 1.6 (security whitepaper; Firmware Management's diagnostics)
        route("SecurityEventNotification", security_event_notification_16, protocol=V16),
        route("LogStatusNotification", log_status_notification_16, protocol=V16),
        route("DiagnosticsStatusNotification", diagnostics_status_notification, protocol=V16),
        answered("GetLog", get_log_answered_16, errors=get_log_failed_16, protocol=V16),
        answered(
            "GetDiagnostics",
            get_diagnostics_answered,
            errors=get_diagnostics_failed,
            protocol=V16,
        ),
    ]
)
