"""Baseline pages of the provider portal: list, create, edit, delete, apply (with the
job's progress), and one client's drift from the baseline it was given."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from clients.models import Organization
from portal.access import ProviderCapability, provider_view
from portal.pagination import paginate, search_term
from providers.views import provider_page_context

from . import selectors, services
from .forms import ALL, BaselineApplyForm, BaselineEditor

MANAGE = ProviderCapability.BASELINES_MANAGE
CLIENTS_PER_PAGE = 50
# A job whose worker has said nothing for this long is shown as stopped.
STALLED_AFTER = timedelta(minutes=5)


def _baseline_or_404(provider, baseline_id):
    baseline = selectors.baseline_in_provider(provider=provider, baseline_id=baseline_id)
    if baseline is None:
        raise Http404
    return baseline


@require_GET
@provider_view(MANAGE)
def baselines(request, *, actor, provider):
    search = search_term(request)
    page = paginate(request, selectors.baseline_list(provider=provider, search=search))
    rows = [(baseline, selectors.baseline_summary(baseline)) for baseline in page.object_list]
    context = provider_page_context(actor, provider, page=page, rows=rows, search=search)
    return render(request, "policies/baselines/list.html", context)


def _editor_page(request, actor, provider, editor, baseline=None):
    context = provider_page_context(actor, provider, editor=editor, baseline=baseline)
    return render(request, "policies/baselines/edit.html", context)


def _save(request, editor, save, **arguments) -> bool:
    """Validate the editor and call the service; a refusal lands on the name field."""
    if request.method != "POST" or not editor.is_valid():
        return False
    try:
        save(name=editor.name, settings=editor.settings, **arguments)
    except services.BaselineError as error:
        editor.name_form.add_error(None, str(error))
        return False
    return True


@require_http_methods(["GET", "POST"])
@provider_view(MANAGE)
def baseline_create(request, *, actor, provider):
    editor = BaselineEditor(request.POST if request.method == "POST" else None)
    if _save(request, editor, services.baseline_create, actor=actor):
        messages.success(request, f"Baseline “{editor.name}” saved.")
        return redirect("provider_baselines", provider_id=provider.pk)
    return _editor_page(request, actor, provider, editor)


@require_http_methods(["GET", "POST"])
@provider_view(MANAGE)
def baseline_edit(request, baseline_id, *, actor, provider):
    baseline = _baseline_or_404(provider, baseline_id)
    editor = BaselineEditor(
        request.POST if request.method == "POST" else None,
        initial_name=baseline.name,
        initial_settings=baseline.settings,
    )
    if _save(request, editor, services.baseline_update, actor=actor, baseline=baseline):
        messages.success(
            request,
            f"Baseline “{editor.name}” saved. Clients already given it keep what they "
            "were given until you apply it again.",
        )
        return redirect("provider_baselines", provider_id=provider.pk)
    return _editor_page(request, actor, provider, editor, baseline)


@require_http_methods(["GET", "POST"])
@provider_view(MANAGE)
def baseline_delete(request, baseline_id, *, actor, provider):
    baseline = _baseline_or_404(provider, baseline_id)
    if request.method == "POST":
        clients = services.baseline_delete(actor=actor, baseline=baseline)
        messages.success(
            request,
            f"Baseline “{baseline.name}” deleted. {clients} client"
            f"{'s' if clients != 1 else ''} given it keep their policies.",
        )
        return redirect("provider_baselines", provider_id=provider.pk)
    context = provider_page_context(
        actor, provider, baseline=baseline, client_count=baseline.assignments.count()
    )
    return render(request, "policies/baselines/delete.html", context)


@require_http_methods(["GET", "POST"])
@provider_view(MANAGE)
def baseline_apply(request, baseline_id, *, actor, provider):
    baseline = _baseline_or_404(provider, baseline_id)
    search = search_term(request)
    clients = selectors.clients_to_choose(actor=actor)
    form = BaselineApplyForm(request.POST or None, clients=clients)
    if request.method == "POST" and form.is_valid():
        chosen = None if form.cleaned_data["scope"] == ALL else list(form.cleaned_data["clients"])
        try:
            job = services.baseline_apply(actor=actor, baseline=baseline, clients=chosen)
        except services.BaselineError as error:
            form.add_error(None, str(error))
        else:
            return redirect("provider_baseline_job", provider_id=provider.pk, job_id=job.pk)
    client_total = clients.count()
    if search:
        clients = clients.filter(name__icontains=search)
    page = paginate(request, clients, per_page=CLIENTS_PER_PAGE)
    ticked = set(request.POST.getlist("clients")) if request.method == "POST" else set()
    context = provider_page_context(
        actor,
        provider,
        baseline=baseline,
        summary=selectors.baseline_summary(baseline),
        form=form,
        page=page,
        search=search,
        client_total=client_total,
        ticked=ticked,
        jobs=selectors.recent_jobs(baseline=baseline),
        inline_max=services.INLINE_MAX_CLIENTS,
    )
    return render(request, "policies/baselines/apply.html", context)


@require_GET
@provider_view(MANAGE)
def baseline_job(request, job_id, *, actor, provider):
    job = selectors.baseline_job_in_provider(provider=provider, job_id=job_id)
    if job is None:
        raise Http404
    stalled = job.is_active and timezone.now() - job.heartbeat_at > STALLED_AFTER
    context = provider_page_context(
        actor, provider, job=job, refresh=job.is_active and not stalled, stalled=stalled
    )
    return render(request, "policies/baselines/job.html", context)


@require_GET
@provider_view(ProviderCapability.DASHBOARD_VIEW)
def client_baseline(request, client_id, *, actor, provider):
    """One client's drift from its baseline: every setting the baseline set, then and now."""
    org = Organization.objects.filter(provider=provider, pk=client_id).first()
    if org is None or not actor.reaches_client(org):
        raise Http404
    drift = selectors.client_drift(provider=provider, org=org)
    context = provider_page_context(actor, provider, client=org, drift=drift)
    return render(request, "policies/baselines/client.html", context)
