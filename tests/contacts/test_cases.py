"""Case lifecycle: reference numbers, working-day deadlines with pause, forwarding, contacts."""

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django_scopes import scope, scopes_disabled

from rathaus.contacts import services
from rathaus.contacts.models import Case, CaseStatus, Channel, Contact, Outcome
from rathaus.core.models import Event, ForwardPolicy

BERLIN = ZoneInfo("Europe/Berlin")


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=BERLIN)


def new_case(world, created: dt.datetime, **kwargs):
    with scope(tenant=world.tenant):
        return services.case_create(
            tenant=world.tenant,
            channel=Channel.PHONE,
            actor=world.users["kc_agent"],
            service=world.service,
            created_at=created,
            **kwargs,
        )


def test_deadline_counts_working_days_of_the_tenants_land(world_a, world_b):
    # Thursday 30 Oct 2025 + 5 working days: Reformation Day (31 Oct) is no holiday in NW.
    case = new_case(world_a, at("2025-10-30"))
    assert case.deadline == at("2025-11-06")
    # Epiphany (6 Jan) is a holiday in Bavaria, not in North Rhine-Westphalia.
    assert new_case(world_a, at("2026-01-02")).deadline == at("2026-01-09")
    assert new_case(world_b, at("2026-01-02")).deadline == at("2026-01-12")
    assert case.reference.startswith("2025-") and case.org_unit == world_a.units["team"]


def test_waiting_pauses_the_deadline_and_resuming_adds_the_days_spent_waiting(world_a):
    case = new_case(world_a, at("2025-12-01"))  # Monday
    assert case.deadline == at("2025-12-08")
    with scope(tenant=world_a.tenant):
        services.case_set_status(
            case=case, status=CaseStatus.WAITING, actor=None, now=at("2025-12-03")
        )
        assert not case.is_overdue(now=at("2026-01-30"))  # the clock does not run
        # Waiting Wed 3 Dec → Tue 9 Dec = 4 working days (Thu, Fri, Mon, Tue).
        services.case_set_status(
            case=case, status=CaseStatus.IN_PROGRESS, actor=None, now=at("2025-12-09")
        )
    assert case.deadline == at("2025-12-12")
    assert case.paused_at is None


def test_a_pause_over_christmas_skips_holidays_and_the_tenants_closing_days(world_a):
    from rathaus.core.services import closing_day_add

    with scope(tenant=world_a.tenant):
        closing_day_add(tenant=world_a.tenant, date=dt.date(2025, 12, 24), name="Heiligabend")
    case = new_case(world_a, at("2025-12-19"))  # Friday
    # Mon 22, Tue 23, (24 closed, 25/26 holidays), Mon 29, Tue 30, Wed 31.
    assert case.deadline == at("2025-12-31")
    with scope(tenant=world_a.tenant):
        services.case_set_status(
            case=case, status=CaseStatus.WAITING, actor=None, now=at("2025-12-22")
        )
        # Waiting 22 Dec → 2 Jan: 23, 29, 30, 31 Dec and 2 Jan = 5 working days.
        services.case_set_status(
            case=case, status=CaseStatus.ANSWERED, actor=None, now=at("2026-01-02")
        )
    assert case.deadline == at("2026-01-08")


def test_lifecycle_rejects_impossible_steps_and_records_every_step(world_a):
    case = new_case(world_a, at("2025-12-01"))
    with scope(tenant=world_a.tenant):
        with pytest.raises(ValidationError):
            services.case_set_status(case=case, status=CaseStatus.CLOSED, actor=None)
        for status in (CaseStatus.IN_PROGRESS, CaseStatus.ANSWERED, CaseStatus.CLOSED):
            services.case_set_status(case=case, status=status, actor=None)
        services.case_set_status(case=case, status=CaseStatus.IN_PROGRESS, actor=None)
        activities = list(
            Event.objects.filter(subject_kind="case", subject_id=case.reference).values_list(
                "activity", flat=True
            )
        )
    assert activities == [
        "case_created",
        "case_in_progress",
        "case_answered",
        "case_closed",
        "case_reopened",
    ]
    assert case.answered_at is None and case.closed_at is None


@pytest.mark.parametrize("policy", [ForwardPolicy.KEEP, ForwardPolicy.RESTART])
def test_forwarding_follows_the_tenants_deadline_policy(world_a, policy):
    world_a.tenant.case_forward_policy = policy
    world_a.tenant.save()
    case = new_case(world_a, at("2025-12-01"))
    with scope(tenant=world_a.tenant):
        with pytest.raises(ValidationError):
            services.case_forward(case=case, org_unit=world_a.units["kc"], reason=" ", actor=None)
        services.case_forward(
            case=case,
            org_unit=world_a.units["kc"],
            reason="Zuständig ist das KC",
            actor=None,
            now=at("2025-12-04"),
        )
        note = case.messages.get()
    expected = at("2025-12-08") if policy == ForwardPolicy.KEEP else at("2025-12-11")
    assert case.deadline == expected and case.org_unit == world_a.units["kc"]
    assert "Zuständig ist das KC" in note.body


def test_a_unit_of_another_tenant_is_refused(world_a, world_b):
    case = new_case(world_a, at("2025-12-01"))
    with scopes_disabled(), pytest.raises(ValidationError):
        services.case_forward(case=case, org_unit=world_b.units["kc"], reason="x", actor=None)
    with scopes_disabled(), pytest.raises(ValidationError):
        services.case_create(
            tenant=world_a.tenant, channel="phone", actor=None, org_unit=world_b.units["kc"]
        )


def test_references_count_per_tenant_and_year(world_a, world_b):
    refs = [new_case(world_a, at("2025-12-30")).reference for _ in range(3)]
    refs.append(new_case(world_a, at("2026-01-02")).reference)
    refs.append(new_case(world_b, at("2025-12-30")).reference)
    assert refs == ["2025-000001", "2025-000002", "2025-000003", "2026-000001", "2025-000001"]


@pytest.mark.django_db(transaction=True)
def test_references_stay_unique_when_many_threads_hand_over_at_once(world_a):
    errors: list[Exception] = []

    def hand_over() -> None:
        try:
            for _ in range(5):
                new_case(world_a, at("2026-03-02"))
        except Exception as error:  # noqa: BLE001 - any failure is reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=hand_over) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with scopes_disabled():
        refs = sorted(Case.objects.values_list("reference", flat=True))
    assert refs == [f"2026-{n:06d}" for n in range(1, 31)]


def test_a_contact_answered_at_first_contact_and_one_handed_over(world_a):
    agent = world_a.users["kc_agent"]
    with scope(tenant=world_a.tenant):
        first = services.contact_start(
            tenant=world_a.tenant, agent=agent, org_unit=world_a.units["kc"], channel="phone"
        )
        services.contact_finish(
            contact=first,
            outcome=Outcome.ANSWERED,
            actor=agent,
            services=[world_a.service],
            summary="Unterlagen erklärt",
            ended_at=first.started_at + dt.timedelta(seconds=150),
        )
        second = services.contact_start(
            tenant=world_a.tenant, agent=agent, org_unit=world_a.units["kc"], channel="phone"
        )
        with pytest.raises(ValidationError):
            services.contact_finish(contact=second, outcome=Outcome.HANDED_OVER, actor=agent)
        services.contact_finish(
            contact=second,
            outcome=Outcome.HANDED_OVER,
            actor=agent,
            citizen={"name": "Erika Muster", "email": "Erika@Example.org", "phone": "+49 171 123"},
            handover={"service": world_a.service, "subject": "Ausweis beschädigt"},
        )
        finished = Event.objects.filter(activity="contact_finished").order_by("id")
        assert [e.payload["outcome"] for e in finished] == ["answered", "handed_over"]
        assert finished[0].payload["handling_seconds"] == 150
        assert "Erika" not in str(finished[1].payload)  # no personal data in the event log
        case = Case.objects.get()
        assert case.subject == "Ausweis beschädigt" and case.email_key == "erika@example.org"
        assert Contact.objects.get(pk=second.pk).case == case and case.phone_key == "0171123"
        with pytest.raises(ValidationError):
            services.contact_finish(contact=first, outcome=Outcome.ANSWERED, actor=agent)
