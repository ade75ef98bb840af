"""Deadlines passing: escalation events, the leads' daily digest, the worker's timers."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django_scopes import scope, scopes_disabled

from rathaus.contacts import jobs, notifications, services
from rathaus.contacts.models import CaseStatus
from rathaus.core.models import Event, TimerState
from rathaus.core.timers import Timer, run_due_timers

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = dt.datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN)


def overdue_case(world, **kwargs):
    with scope(tenant=world.tenant):
        return services.case_create(
            tenant=world.tenant,
            channel="phone",
            actor=None,
            service=world.service,
            created_at=MONDAY,
            **kwargs,
        )


def test_escalation_is_recorded_once_and_skips_paused_and_answered_cases(world_a, world_b):
    late, paused, answered = (overdue_case(world_a) for _ in range(3))
    overdue_case(world_b)
    with scope(tenant=world_a.tenant):
        services.case_set_status(case=paused, status=CaseStatus.WAITING, actor=None, now=MONDAY)
        services.case_set_status(case=answered, status=CaseStatus.ANSWERED, actor=None)
        later = MONDAY + dt.timedelta(days=14)
        assert services.cases_escalate(tenant=world_a.tenant, now=later) == [late]
        assert services.cases_escalate(tenant=world_a.tenant, now=later) == []
        assert Event.objects.filter(activity="case_escalated").count() == 1
    with scopes_disabled():  # the other town's case is its own business
        assert Event.objects.filter(tenant=world_b.tenant, activity="case_escalated").count() == 0


def test_digest_mails_each_lead_the_overdue_cases_of_their_subtree(
    world_a, world_b, smtp_server, django_capture_on_commit_callbacks
):
    lead = world_a.users["team_lead"]
    lead.email = "lead@alpha.example"
    lead.save()
    case = overdue_case(world_a, subject="Ausweis beschädigt")
    overdue_case(world_b, subject="Fremder Vorgang")
    later = MONDAY + dt.timedelta(days=14)
    with scope(tenant=world_a.tenant), django_capture_on_commit_callbacks(execute=True):
        assert notifications.overdue_digest_send(tenant=world_a.tenant, now=later) == 1
        # Nothing overdue yet → no mail at all.
        assert notifications.overdue_digest_send(tenant=world_a.tenant, now=MONDAY) == 0
    [mail] = smtp_server.messages
    body = mail.get_content()
    assert mail["To"] == "lead@alpha.example" and case.reference in body
    assert "Ausweis beschädigt" in body and "Fremder Vorgang" not in body


def test_timers_run_when_due_and_once(db, world_a):
    overdue_case(world_a)
    now = MONDAY + dt.timedelta(days=14)
    timers = [
        Timer("test.escalate", "rathaus.contacts.jobs.escalate_all", every=dt.timedelta(minutes=15))
    ]
    assert run_due_timers(now=now, timers=timers) == ["test.escalate"]
    assert run_due_timers(now=now + dt.timedelta(minutes=5), timers=timers) == []
    assert run_due_timers(now=now + dt.timedelta(minutes=16), timers=timers) == ["test.escalate"]
    with scopes_disabled():
        assert Event.objects.filter(activity="case_escalated").count() == 1
    state = TimerState.objects.get(name="test.escalate")
    assert state.last_error == "" and state.next_run == now + dt.timedelta(minutes=31)


def test_a_failing_job_is_logged_and_does_not_stop_the_others(db):
    now = MONDAY
    timers = [
        Timer("test.broken", "rathaus.does.not.exist", every=dt.timedelta(minutes=1)),
        Timer("test.daily", "rathaus.contacts.jobs.escalate_all", daily_at=dt.time(7, 0)),
    ]
    assert run_due_timers(now=now, timers=timers) == ["test.broken"]
    assert "does" in TimerState.objects.get(name="test.broken").last_error
    # The daily job first runs at 07:00 the next day (it is 09:00 now).
    assert TimerState.objects.get(name="test.daily").next_run == MONDAY.replace(
        hour=7
    ) + dt.timedelta(days=1)
    assert jobs.escalate_all(now) == 0
    assert get_user_model().objects.count() == 0
