"""Station -> CSMS actions this service handles, and the answers to its calls it acts on, by
(protocol version, action).

Report parts (csms.events.reporting) are a side subscription: see ``app``.
"""

from csms_runtime.handlers import RouteTable, answered, route

from monitoring.handlers.clear_variable_monitoring import clear_variable_monitoring_answered
from monitoring.handlers.get_variables import get_variables_answered
from monitoring.handlers.notify_event import notify_event
from monitoring.handlers.set_monitoring_base import set_monitoring_base_answered
from monitoring.handlers.set_monitoring_level import set_monitoring_level_answered
from monitoring.handlers.set_variable_monitoring import set_variable_monitoring_answered
from monitoring.handlers.set_variables import set_variables_answered
from monitoring.handlers16.change_configuration import change_configuration_answered
from monitoring.handlers16.get_configuration import get_configuration_answered

ROUTES = RouteTable(
    [
        route("NotifyEvent", notify_event),
        answered("GetVariables", get_variables_answered),
        answered("SetVariables", set_variables_answered),
        answered("SetVariableMonitoring", set_variable_monitoring_answered),
        answered("ClearVariableMonitoring", clear_variable_monitoring_answered),
        answered("SetMonitoringBase", set_monitoring_base_answered),
        answered("SetMonitoringLevel", set_monitoring_level_answered),
        # OCPP 1.6: GetVariables / SetVariables by configuration key (monitoring.keys16)
        answered("GetConfiguration", get_configuration_answered, protocol="1.6"),
        answered("ChangeConfiguration", change_configuration_answered, protocol="1.6"),
    ]
)
