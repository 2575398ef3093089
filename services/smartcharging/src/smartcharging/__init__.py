"""The smartcharging service: the OCPP 2.0.1 smart charging block (functional block K).

Charging profiles (this package's top level): a SetChargingProfile is checked against
OCPP's rules before the message API sends it (``rules``: a breach is a 422 naming the rule,
never sent); the profiles stations accept are kept as they hold them, a ClearChargingProfile
they accept forgets what it names, and every SetChargingProfile answer is kept per profile id
(``handlers``, ``store``). GetChargingProfiles reports (ReportChargingProfiles parts under the
requestId the message API allocates) are kept with their completeness and compared with the
accepted profiles on read. GetCompositeSchedule answers are kept, and the composite schedule
a station should follow is computed from what the CSMS knows (``composite``). External limits
(NotifyChargingLimit / ClearedChargingLimit) are kept in ``smartcharging.external_limits``, a
table site load management reads; EVs' schedules (NotifyEVChargingSchedule) are kept and
accepted. The data API is under /data/smartcharging (``api``).

Site load management (``smartcharging.sites``) shares the service: see its package.
"""
