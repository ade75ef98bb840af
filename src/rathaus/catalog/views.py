"""Staff pages of the catalogue: the desk search, service and article lists, editors' pages."""

from __future__ import annotations

import copy

from django.contrib import messages
from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rathaus.catalog import selectors
from rathaus.catalog import services as catalog_services
from rathaus.catalog.forms import ArticleForm, ServiceForm
from rathaus.catalog.models import Article, Service, ServiceStatus
from rathaus.core.exports import csv_response
from rathaus.core.http import TenantRequest, acting_staff, active_tenant, id_param
from rathaus.core.models import OrgUnit, Role
from rathaus.core.paging import paged
from rathaus.core.permissions import has_role, role_required, tenant_required
from rathaus.core.selectors import events_of

EDITOR = Role.KNOWLEDGE_EDITOR


def _is_editor(request: TenantRequest) -> bool:
    return has_role(request, EDITOR, Role.TENANT_ADMIN)


@tenant_required
def search(request: TenantRequest) -> HttpResponse:
    """The desk: search as you type; the top service's key facts appear at once."""
    query = request.GET.get("q", "").strip()[:200]
    hits = selectors.catalog_search(active_tenant(request), query) if query else []
    picked = request.GET.get("pick", "")
    selected = next((h for h in hits if f"{h.kind}-{h.obj.pk}" == picked), None)
    if selected is None:
        selected = next((h for h in hits if h.kind == "service"), hits[0] if hits else None)
    context = {"q": query, "hits": hits, "selected": selected}
    template = "catalog/partials/desk_results.html" if request.htmx else "catalog/search.html"
    return render(request, template, context)


def _filtered_services(request: TenantRequest) -> tuple[QuerySet[Service], dict[str, str]]:
    params = {
        k: request.GET.get(k, "").strip() for k in ("q", "status", "unit", "bookable", "sort")
    }
    services = Service.objects.select_related("org_unit")
    if params["q"]:
        services = services.filter(
            Q(name__icontains=params["q"])
            | Q(keywords__icontains=params["q"])
            | Q(leika_key=params["q"])
        )
    if params["status"] in ServiceStatus.values:
        services = services.filter(status=params["status"])
    if (unit := id_param(params["unit"])) is not None:
        services = services.filter(org_unit_id=unit)
    if params["bookable"] in {"yes", "no"}:
        services = services.filter(bookable=params["bookable"] == "yes")
    order = {
        "name": ["name"],
        "-name": ["-name"],
        "updated": ["-updated_at", "name"],
        "unit": ["org_unit__name", "name"],
    }
    services = services.order_by(*order.get(params["sort"], ["name"]))
    return services, params


@tenant_required
def service_list(request: TenantRequest) -> HttpResponse:
    services, params = _filtered_services(request)
    if request.GET.get("format") == "csv":
        return _services_csv(services)
    return render(
        request,
        "catalog/service_list.html",
        {
            **paged(request, services),
            "params": params,
            "units": OrgUnit.objects.order_by("path"),
            "statuses": ServiceStatus.choices,
            "is_editor": _is_editor(request),
        },
    )


def _services_csv(services: QuerySet[Service]) -> HttpResponse:
    response, writer = csv_response("leistungen.csv")
    writer.writerow(
        [_("Name"), _("LeiKa key"), _("Status"), _("Responsible unit"), _("KC can answer"),
         _("Hand-over deadline (working days)"), _("Bookable"), _("Duration (minutes)"), _("Fees")]
    )  # fmt: skip
    for s in services:
        writer.writerow(
            [s.name, s.leika_key, s.get_status_display(), s.org_unit.name if s.org_unit else "",
             _("yes") if s.kc_can_answer else _("no"), s.handover_days, _("yes") if s.bookable else _("no"),
             s.duration_minutes or "", s.fees]
        )  # fmt: skip
    return response


@tenant_required
def service_detail(request: TenantRequest, pk: int) -> HttpResponse:
    service = get_object_or_404(Service.objects.select_related("org_unit"), pk=pk)
    return render(
        request,
        "catalog/service_detail.html",
        {
            "service": service,
            "articles": service.articles.filter(retired=False).order_by("question"),
            "combinable": service.combinable.order_by("name"),
            "events": events_of(service),
            "is_editor": _is_editor(request),
        },
    )


@role_required(EDITOR)
def service_edit(request: TenantRequest, pk: int | None = None) -> HttpResponse:
    service = get_object_or_404(Service, pk=pk) if pk else None
    # The form validates a copy: ModelForm writes cleaned data onto its instance, and the
    # service must see the unchanged row to know which fields really changed.
    form = ServiceForm(request.POST or None, instance=copy.copy(service))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        combinable = data.pop("combinable")
        if service is None:
            service = catalog_services.service_create(
                tenant=active_tenant(request),
                actor=acting_staff(request),
                combinable=combinable,
                **data,
            )
            messages.success(request, _("The service was created as a draft."))
        else:
            catalog_services.service_update(
                service=service, actor=acting_staff(request), combinable=combinable, **data
            )
            messages.success(request, _("The service was saved."))
        return redirect("catalog:service_detail", pk=service.pk)
    return render(request, "catalog/service_form.html", {"form": form, "service": service})


@role_required(EDITOR)
@require_POST
def service_status(request: TenantRequest, pk: int) -> HttpResponse:
    service = get_object_or_404(Service, pk=pk)
    status = request.POST.get("status", "")
    if status not in ServiceStatus.values:
        messages.error(request, _("Unknown status."))
    else:
        catalog_services.service_set_status(
            service=service, status=status, actor=acting_staff(request)
        )
        messages.success(
            request, _("Status changed to %(status)s.") % {"status": ServiceStatus(status).label}
        )
    return redirect("catalog:service_detail", pk=service.pk)


def _filtered_articles(request: TenantRequest) -> tuple[QuerySet[Article], dict[str, str]]:
    params = {k: request.GET.get(k, "").strip() for k in ("q", "state", "sort")}
    articles = Article.objects.select_related("owner")
    if params["q"]:
        articles = articles.filter(
            Q(question__icontains=params["q"])
            | Q(answer__icontains=params["q"])
            | Q(keywords__icontains=params["q"])
        )
    states = {
        "published": Q(published=True, retired=False),
        "draft": Q(published=False, retired=False),
        "retired": Q(retired=True),
    }
    if params["state"] in states:
        articles = articles.filter(states[params["state"]])
    order = {
        "question": ["question"],
        "review": ["review_by", "question"],
        "updated": ["-updated_at"],
    }
    return articles.order_by(*order.get(params["sort"], ["question"])), params


@tenant_required
def article_list(request: TenantRequest) -> HttpResponse:
    articles, params = _filtered_articles(request)
    return render(
        request,
        "catalog/article_list.html",
        {
            **paged(request, articles),
            "params": params,
            "is_editor": _is_editor(request),
        },
    )


@role_required(EDITOR)
def article_review(request: TenantRequest) -> HttpResponse:
    return render(
        request, "catalog/article_review.html", paged(request, selectors.articles_due_for_review())
    )


@tenant_required
def article_detail(request: TenantRequest, pk: int) -> HttpResponse:
    article = get_object_or_404(Article.objects.select_related("owner"), pk=pk)
    return render(
        request,
        "catalog/article_detail.html",
        {
            "article": article,
            "services": article.services.order_by("name"),
            "events": events_of(article),
            "is_editor": _is_editor(request),
        },
    )


@role_required(EDITOR)
def article_edit(request: TenantRequest, pk: int | None = None) -> HttpResponse:
    article = get_object_or_404(Article, pk=pk) if pk else None
    form = ArticleForm(request.POST or None, instance=copy.copy(article))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        services = data.pop("services")
        if article is None:
            article = catalog_services.article_create(
                tenant=active_tenant(request),
                actor=acting_staff(request),
                services=services,
                **data,
            )
            messages.success(request, _("The article was created as a draft."))
        else:
            catalog_services.article_update(
                article=article, actor=acting_staff(request), services=services, **data
            )
            messages.success(request, _("The article was saved."))
        return redirect("catalog:article_detail", pk=article.pk)
    return render(request, "catalog/article_form.html", {"form": form, "article": article})


@role_required(EDITOR)
@require_POST
def article_state(request: TenantRequest, pk: int) -> HttpResponse:
    article = get_object_or_404(Article, pk=pk)
    action = request.POST.get("action", "")
    if action == "publish":
        catalog_services.article_publish(
            article=article, published=True, actor=acting_staff(request)
        )
        messages.success(request, _("The article is published."))
    elif action == "unpublish":
        catalog_services.article_publish(
            article=article, published=False, actor=acting_staff(request)
        )
        messages.success(request, _("The article is no longer published."))
    elif action == "retire":
        catalog_services.article_retire(article=article, actor=acting_staff(request))
        messages.success(request, _("The article was retired."))
    else:
        messages.error(request, _("Unknown action."))
    return redirect("catalog:article_detail", pk=article.pk)
