"""REST API v1 for integrations, one module per domain: catalogue (read), contacts, cases,
call records and appointments.

Every view runs in the tenant scope of its token (see auth.TenantScopedAPIView); writes go
through the services of the owning app, whose Django ValidationErrors become 400 answers.
"""

from rathaus.api.views.appointments import (
    AppointmentView,
    BookingCancel,
    BookingConfirm,
    BookingCreate,
    BookingDetail,
    BookingReschedule,
    BookingView,
    FreeDays,
    FreeTimes,
    LocationList,
)
from rathaus.api.views.calls import CALLS_REQUEST, CallRecordImport
from rathaus.api.views.cases import (
    CaseDetail,
    CaseForward,
    CaseList,
    CaseReply,
    CaseStatusChange,
    CaseView,
)
from rathaus.api.views.catalog import Search, ServiceDetail, ServiceList, UnitList
from rathaus.api.views.common import ERRORS, NOT_FOUND, ApiView
from rathaus.api.views.contacts import ContactDetail, ContactList

__all__ = [
    "CALLS_REQUEST",
    "ERRORS",
    "NOT_FOUND",
    "ApiView",
    "AppointmentView",
    "BookingCancel",
    "BookingConfirm",
    "BookingCreate",
    "BookingDetail",
    "BookingReschedule",
    "BookingView",
    "CallRecordImport",
    "CaseDetail",
    "CaseForward",
    "CaseList",
    "CaseReply",
    "CaseStatusChange",
    "CaseView",
    "ContactDetail",
    "ContactList",
    "FreeDays",
    "FreeTimes",
    "LocationList",
    "Search",
    "ServiceDetail",
    "ServiceList",
    "UnitList",
]
