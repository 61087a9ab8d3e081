"""The import pages: the form with the org's recent jobs, and one job's progress and result.

They show counts and row errors only, never an item (not even a name): provider staff
import write-only, and the pages are the same for everyone who may import.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from clients.views.orgs import org_page_context
from portal.access import Capability, org_view
from portal.pagination import paginate

from . import selectors
from .forms import ImportForm
from .services import ImportRefused, import_job_create

JOBS_PER_PAGE = 10


@require_http_methods(["GET", "POST"])
@org_view(Capability.IMPORT)
def import_page(request, *, actor, org):
    form = ImportForm(request.POST or None, request.FILES or None, org=org)
    if request.method == "POST" and form.is_valid():
        try:
            job = import_job_create(
                actor=actor,
                org=org,
                upload=form.cleaned_data["file"],
                format_key=form.cleaned_data["format"],
                collection=form.cleaned_data["collection"],
                file_password=form.cleaned_data["file_password"],
            )
        except ImportRefused as refusal:
            form.add_error("file", str(refusal))
        else:
            messages.success(request, "File received and encrypted; the import has started.")
            return redirect("org_import_job", org_id=org.pk, job_id=job.pk)
    jobs = paginate(request, selectors.import_jobs_for_org(org=org), per_page=JOBS_PER_PAGE)
    context = org_page_context(
        actor,
        org,
        form=form,
        page=jobs,
        jobs=[(job, selectors.format_label(job)) for job in jobs.object_list],
        has_collections=org.collections.exists(),
    )
    return render(request, "vault/import.html", context)


@require_http_methods(["GET"])
@org_view(Capability.IMPORT)
def import_job_page(request, *, actor, org, job_id):
    job = selectors.import_job_in_org(org=org, job_id=job_id)
    if job is None:
        raise Http404
    context = org_page_context(
        actor,
        org,
        job=job,
        progress=selectors.job_progress(job),
        counts=selectors.counts_by_type(job),
        format_label=selectors.format_label(job),
        refresh=job.is_active,
        more_errors=job.row_error_count - len(job.row_errors),
    )
    return render(request, "vault/import_job.html", context)
