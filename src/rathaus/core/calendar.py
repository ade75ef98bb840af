"""Working-day arithmetic per tenant: weekends, the public holidays of its Bundesland and its
own closing days are not working days."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django_scopes import scopes_disabled

from rathaus.core.models import ClosingDay, Tenant


@lru_cache(maxsize=256)
def _public_holidays(state: str, year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("DE", subdiv=state, years=year).keys())


class WorkingCalendar:
    """The working days of one tenant. Build it once per operation: it reads closing days once."""

    def __init__(
        self, *, state: str, time_zone: str, closing_days: frozenset[dt.date] = frozenset()
    ) -> None:
        self.state = state
        self.zone = ZoneInfo(time_zone)
        self.closing_days = closing_days

    @classmethod
    def for_tenant(cls, tenant: Tenant) -> WorkingCalendar:
        with scopes_disabled():
            days = frozenset(
                ClosingDay.objects.filter(tenant=tenant).values_list("date", flat=True)
            )
        return cls(state=tenant.state, time_zone=tenant.zone.key, closing_days=days)

    def is_closed(self, day: dt.date) -> bool:
        """A public holiday or a closing day of the tenant (weekends are not meant here)."""
        return day in _public_holidays(self.state, day.year) or day in self.closing_days

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() < 5 and not self.is_closed(day)

    def add_working_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """Move `days` working days forward from `start`, keeping the local time of day.

        1. Convert to the tenant's local time (holidays are local dates).
        2. Step one calendar day at a time; each step skips to the next working day.
        3. Return the result as an aware datetime in the tenant's zone (DST-correct).
        A start on a weekend counts from the next working day: Saturday + 1 = Tuesday
        is wrong, Saturday + 1 = Monday is right.
        """
        if days < 0:
            raise ValueError("days must not be negative")
        if start.tzinfo is None:
            raise ValueError("start must be an aware datetime")
        local = start.astimezone(self.zone)
        day = local.date()
        for _ in range(days):
            day += dt.timedelta(days=1)
            while not self.is_working_day(day):
                day += dt.timedelta(days=1)
        return dt.datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=self.zone)

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in the half-open interval (start, end]; negative when end is before start."""
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        day = start
        while day < end:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count


def add_working_days(tenant: Tenant, start: dt.datetime, days: int) -> dt.datetime:
    return WorkingCalendar.for_tenant(tenant).add_working_days(start, days)
