import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django_scopes import scope
from hypothesis import given, settings
from hypothesis import strategies as st

from rathaus.core.calendar import WorkingCalendar, add_working_days
from rathaus.core.services import closing_day_add

BERLIN = ZoneInfo("Europe/Berlin")
NW = WorkingCalendar(state="NW", time_zone="Europe/Berlin")
BE = WorkingCalendar(state="BE", time_zone="Europe/Berlin")


def at(y, m, d, h=10, mi=0):
    return dt.datetime(y, m, d, h, mi, tzinfo=BERLIN)


def test_weekend_is_skipped():
    # Friday + 1 working day = Monday, same time of day.
    assert NW.add_working_days(at(2026, 11, 20, 15, 30), 1) == at(2026, 11, 23, 15, 30)


def test_start_on_saturday_counts_from_monday():
    assert NW.add_working_days(at(2026, 11, 21), 1) == at(2026, 11, 23)


def test_easter_holidays_are_skipped():
    # Maundy Thursday 2026-04-02 + 1 → Good Friday and Easter Monday are holidays → Tuesday 7 April.
    assert NW.add_working_days(at(2026, 4, 2), 1) == at(2026, 4, 7)


def test_holidays_follow_the_bundesland():
    # Corpus Christi (4 June 2026) is a holiday in NRW but not in Berlin.
    assert NW.add_working_days(at(2026, 6, 3), 1) == at(2026, 6, 5)
    assert BE.add_working_days(at(2026, 6, 3), 1) == at(2026, 6, 4)
    # Women's Day (8 March) is a holiday only in Berlin (and MV); 2027-03-08 is a Monday.
    assert BE.add_working_days(at(2027, 3, 5), 1) == at(2027, 3, 9)
    assert NW.add_working_days(at(2027, 3, 5), 1) == at(2027, 3, 8)


def test_year_end_with_tenant_closing_days(world_a):
    with scope(tenant=world_a.tenant):
        closing_day_add(tenant=world_a.tenant, date=dt.date(2026, 12, 24), name="Heiligabend")
        closing_day_add(tenant=world_a.tenant, date=dt.date(2026, 12, 31), name="Silvester")
    # 23 Dec (Wed) + 2: 24 closed, 25/26 holidays, 27 Sunday → 28 (Mon), 29 (Tue).
    assert add_working_days(world_a.tenant, at(2026, 12, 23), 2) == at(2026, 12, 29)
    # 30 Dec + 1: 31 closed, 1 Jan holiday, weekend → Monday 4 Jan 2027.
    assert add_working_days(world_a.tenant, at(2026, 12, 30), 1) == at(2027, 1, 4)


def test_time_of_day_survives_daylight_saving_change():
    # Friday 27 March 2026 09:00 CET + 1 → Monday 30 March 09:00 CEST (clocks moved on Sunday).
    result = NW.add_working_days(at(2026, 3, 27, 9), 1)
    assert result == at(2026, 3, 30, 9)
    assert result.utcoffset() == dt.timedelta(hours=2)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        NW.add_working_days(at(2026, 1, 5), -1)
    with pytest.raises(ValueError):
        NW.add_working_days(dt.datetime(2026, 1, 5), 1)


starts = st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2030, 12, 31)).map(
    lambda d: d.replace(tzinfo=BERLIN)
)
states = st.sampled_from(
    ["BW", "BY", "BE", "BB", "HB", "HH", "HE", "MV", "NI", "NW", "RP", "SL", "SN", "ST", "SH", "TH"]
)


@settings(max_examples=200, deadline=None)
@given(start=starts, n=st.integers(0, 60), m=st.integers(0, 60), state=states)
def test_adding_is_composable(start, n, m, state):
    cal = WorkingCalendar(state=state, time_zone="Europe/Berlin")
    assert cal.add_working_days(cal.add_working_days(start, n), m) == cal.add_working_days(
        start, n + m
    )


@settings(max_examples=200, deadline=None)
@given(start=starts, n=st.integers(1, 60), state=states)
def test_result_is_a_working_day_exactly_n_working_days_later(start, n, state):
    cal = WorkingCalendar(state=state, time_zone="Europe/Berlin")
    result = cal.add_working_days(start, n)
    assert cal.is_working_day(result.date())
    assert cal.working_days_between(start.astimezone(BERLIN).date(), result.date()) == n
    assert result > start
    # Never more than n weeks plus the longest holiday run later.
    assert (result.date() - start.date()).days <= n * 7 // 5 + 10


@settings(max_examples=100, deadline=None)
@given(start=starts, n=st.integers(1, 40), state=states)
def test_more_days_never_end_earlier(start, n, state):
    cal = WorkingCalendar(state=state, time_zone="Europe/Berlin")
    assert cal.add_working_days(start, n) < cal.add_working_days(start, n + 1)
