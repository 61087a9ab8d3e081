"""The import pages: the trio, the form's refusals, the job page, the query counts."""

from __future__ import annotations

import re

import pytest
from django.test import TestCase
from django.urls import reverse

from clients.models import Membership
from vault.models import ImportJob, ImportStatus, ImportTarget, Item

from .conftest import as_json, bitwarden_org_export, upload

pytestmark = pytest.mark.django_db

MARKER = "QZXVMARKER"


def import_url(org) -> str:
    return reverse("org_import", kwargs={"org_id": org.pk})


def job_url(org, job) -> str:
    return reverse("org_import_job", kwargs={"org_id": org.pk, "job_id": job.pk})


def marked_export() -> bytes:
    export = bitwarden_org_export()
    for item in export["items"]:
        item["name"] = f"{MARKER} {item['name']}"
    export["items"][0]["login"]["password"] = MARKER
    return as_json(export)


def post_file(client, org, data: bytes, **fields):
    form = {"file": upload(data), "format": "", "target": "from_file", **fields}
    with TestCase.captureOnCommitCallbacks(execute=True):  # the task runs eagerly, on commit
        return client.post(import_url(org), form)


def finished_job(org, *, errors: int = 0, **fields) -> ImportJob:
    return ImportJob.objects.create(
        org=org,
        target=ImportTarget.FROM_FILE,
        status=ImportStatus.SUCCEEDED,
        counts={"login": 3, "card": 1},
        collections_created=["Finance", "Finance/Banking"],
        row_errors=[
            {"where": f"row {n + 2}", "reason": "Give the item a name."} for n in range(errors)
        ],
        row_error_count=errors,
        **fields,
    )


# -- the import page --


def test_the_page_shows_the_workflow_the_form_and_recent_jobs(keyed_world, login):
    w = keyed_world
    mine = finished_job(w.org)
    theirs = finished_job(w.other_org)
    page = login(w.alice).get(import_url(w.org)).content.decode()
    assert "Create the collections first" in page
    assert 'enctype="multipart/form-data"' in page
    assert '<label for="id_file">' in page and '<label for="id_format">' in page
    assert "<legend>Where the items go</legend>" in page
    assert "Detect from the file" in page and "LastPass (.csv)" in page
    assert job_url(w.org, mine) in page
    assert str(theirs.pk) not in page  # another org's jobs are absent


def test_an_owner_imports_through_the_page_and_sees_counts_only(keyed_world, login):
    w = keyed_world
    client = login(w.alice)
    response = post_file(client, w.org, marked_export())
    job = ImportJob.objects.get(org=w.org)
    assert response.status_code == 302 and response.url == job_url(w.org, job)
    assert job.status == ImportStatus.SUCCEEDED  # tests run the task eagerly
    page = client.get(response.url).content.decode()
    assert "File received and encrypted" in page
    assert re.search(r"<td>Login</td><td class=\"num\">1</td>", page)
    assert "Finance/Banking" in page  # a collection created (collection names are not secret)
    assert MARKER not in page
    assert 'http-equiv="refresh"' not in page  # done: no more refreshing


def test_a_provider_admin_imports_write_only(keyed_world, login):
    w = keyed_world
    client = login(w.provider_admin)
    response = post_file(client, w.org, marked_export())
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "Done" in page and MARKER not in page
    assert Item.objects.filter(org=w.org).count() == 5
    # The vault itself stays closed to provider staff.
    assert client.get(reverse("vault_item_list", kwargs={"org_id": w.org.pk})).status_code == 404


def test_a_custom_role_with_the_import_flag_may_import(keyed_world, login):
    w = keyed_world
    Membership.objects.filter(org=w.org, user=w.custom).update(can_access_import_export=True)
    assert login(w.custom).get(import_url(w.org)).status_code == 200


def test_the_team_members_limits_and_the_stranger(keyed_world, login):
    w = keyed_world
    assert login(w.bob).post(import_url(w.org), {}).status_code == 403
    assert login(w.custom).get(import_url(w.org)).status_code == 403
    assert login(w.charlie).get(import_url(w.org)).status_code == 404
    assert login(w.other_provider_admin).get(import_url(w.org)).status_code == 404
    assert not ImportJob.objects.exists()


def test_wrong_methods(keyed_world, login):
    w = keyed_world
    client = login(w.alice)
    assert client.put(import_url(w.org)).status_code == 405
    assert client.post(job_url(w.org, finished_job(w.org))).status_code == 405


def test_a_file_above_the_limit_is_refused_on_the_form(keyed_world, login, settings):
    w = keyed_world
    settings.VAULT_IMPORT_MAX_BYTES = 1024 * 1024
    client = login(w.alice)
    response = post_file(client, w.org, b"x" * (1024 * 1024 + 1), format="lastpass_csv")
    assert response.status_code == 200
    page = response.content.decode()
    assert "larger than 1 MB" in page
    assert 'value="lastpass_csv" selected' in page  # what the user chose is kept
    assert not ImportJob.objects.exists()


def test_one_collection_must_be_chosen_and_be_of_this_org(keyed_world, login):
    w = keyed_world
    client = login(w.alice)
    response = post_file(client, w.org, b"{}", target="collection")
    assert "Choose the collection the items go into." in response.content.decode()
    response = post_file(
        client, w.org, b"{}", target="collection", collection=w.other_collection.pk
    )
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_an_import_into_one_collection(keyed_world, login):
    w = keyed_world
    client = login(w.org_admin)
    post_file(client, w.org, marked_export(), target="collection", collection=w.collection.pk)
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.SUCCEEDED and job.collection == w.collection
    assert Item.objects.filter(org=w.org, collections=w.collection).count() == 5


def test_a_refused_upload_shows_the_reason_on_the_form(keyed_world, login):
    w = keyed_world
    client = login(w.alice)
    response = post_file(client, w.org, b"")
    assert response.status_code == 200 and "empty" in response.content.decode()


def test_the_sidebar_links_the_page_for_those_who_may_import(keyed_world, login):
    w = keyed_world
    overview = reverse("org_overview", kwargs={"org_id": w.org.pk})
    assert import_url(w.org) in login(w.provider_admin).get(overview).content.decode()
    assert import_url(w.org) not in login(w.bob).get(overview).content.decode()


# -- the job page --


def test_a_running_job_refreshes_itself_and_shows_a_moving_bar(keyed_world, login):
    from django.core.cache import cache

    from vault.imports.services import progress_key

    w = keyed_world
    job = ImportJob.objects.create(
        org=w.org, target=ImportTarget.FROM_FILE, status=ImportStatus.RUNNING, upload_size=1000
    )
    client = login(w.service_user)
    cache.set(progress_key(job.pk), {"bytes": 250, "items": 40, "errors": 0, "heartbeat": 0})
    page = client.get(job_url(w.org, job)).content.decode()
    assert '<meta http-equiv="refresh" content="2">' in page
    assert '<progress id="import-progress" max="100" value="25">' in page
    assert "40 items so far" in page
    cache.set(progress_key(job.pk), {"bytes": 750, "items": 120, "errors": 0, "heartbeat": 0})
    page = client.get(job_url(w.org, job)).content.decode()
    assert 'value="75"' in page


def test_a_queued_job_refreshes_too(keyed_world, login):
    w = keyed_world
    job = ImportJob.objects.create(org=w.org, target=ImportTarget.FROM_FILE)
    page = login(w.alice).get(job_url(w.org, job)).content.decode()
    assert 'http-equiv="refresh"' in page and "Waiting for a worker" in page


def test_a_failed_job_shows_its_message(keyed_world, login):
    w = keyed_world
    job = ImportJob.objects.create(
        org=w.org,
        target=ImportTarget.FROM_FILE,
        status=ImportStatus.FAILED,
        failure_message="The file ends too early: it was cut short.",
    )
    page = login(w.alice).get(job_url(w.org, job)).content.decode()
    assert "cut short" in page and 'http-equiv="refresh"' not in page


def test_a_finished_job_lists_counts_collections_and_errors(keyed_world, login):
    w = keyed_world
    job = finished_job(w.org, errors=2)
    page = login(w.alice).get(job_url(w.org, job)).content.decode()
    assert re.search(r"<td>Card</td><td class=\"num\">1</td>", page)
    assert "<li>Finance/Banking</li>" in page
    assert "<td>row 3</td><td>Give the item a name.</td>" in page
    assert "Skipped rows (2)" in page


def test_a_job_of_another_org_or_no_job_is_not_found(keyed_world, login):
    import uuid

    w = keyed_world
    theirs = finished_job(w.other_org)
    client = login(w.alice)
    foreign = reverse("org_import_job", kwargs={"org_id": w.org.pk, "job_id": theirs.pk})
    assert client.get(foreign).status_code == 404
    missing = reverse("org_import_job", kwargs={"org_id": w.org.pk, "job_id": uuid.uuid4()})
    assert client.get(missing).status_code == 404
    assert login(w.charlie).get(job_url(w.org, finished_job(w.org))).status_code == 404
    assert login(w.bob).get(job_url(w.org, finished_job(w.org))).status_code == 403


@pytest.mark.parametrize("who", ["alice", "provider_admin"])
def test_the_job_page_queries_do_not_grow_with_rows(
    keyed_world, login, django_assert_num_queries, who
):
    w = keyed_world
    client = login(getattr(w, who))
    client.get(reverse("org_overview", kwargs={"org_id": w.org.pk}))  # a provider's first entry
    small, large = finished_job(w.org, errors=3), finished_job(w.org, errors=30)
    queries = {"alice": QUERIES_JOB_PAGE, "provider_admin": QUERIES_JOB_PAGE_PROVIDER}[who]
    with django_assert_num_queries(queries):
        assert client.get(job_url(w.org, small)).status_code == 200
    with django_assert_num_queries(queries):
        assert client.get(job_url(w.org, large)).status_code == 200


@pytest.mark.parametrize("who", ["alice", "provider_admin"])
def test_the_import_page_queries_do_not_grow_with_jobs(
    keyed_world, login, django_assert_num_queries, who
):
    w = keyed_world
    client = login(getattr(w, who))
    client.get(reverse("org_overview", kwargs={"org_id": w.org.pk}))
    for _ in range(3):
        finished_job(w.org, created_by=w.alice)
    queries = {"alice": QUERIES_IMPORT_PAGE, "provider_admin": QUERIES_IMPORT_PAGE_PROVIDER}[who]
    with django_assert_num_queries(queries):
        assert client.get(import_url(w.org)).status_code == 200
    for _ in range(27):
        finished_job(w.org, created_by=w.provider_admin, acting_provider=w.provider)
    with django_assert_num_queries(queries):
        assert client.get(import_url(w.org)).status_code == 200


# Pinned: the same at 3 and at 30 rows (row errors on the job page, jobs on the import page).
# The org, the membership and the provider staff row come in one query (portal.access).
QUERIES_JOB_PAGE = 4
QUERIES_JOB_PAGE_PROVIDER = 4
QUERIES_IMPORT_PAGE = 7
QUERIES_IMPORT_PAGE_PROVIDER = 7


class _RecordedFile:
    """A temporary file that keeps a copy of what was written to it (it is closed after)."""

    def __init__(self, real):
        self.real, self.written = real, bytearray()

    def write(self, data):
        self.written += data
        return self.real.write(data)

    def __getattr__(self, name):
        return getattr(self.real, name)


@pytest.fixture
def temporary_files(monkeypatch):
    import tempfile

    files = []
    temporary_file = tempfile.TemporaryFile

    def recorded(*args, **kwargs):
        files.append(_RecordedFile(temporary_file(*args, **kwargs)))
        return files[-1]

    monkeypatch.setattr(tempfile, "TemporaryFile", recorded)
    return files


def test_a_large_upload_waits_encrypted_on_disk(keyed_world, login, settings, temporary_files):
    w = keyed_world
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1000  # beyond this, the temporary file handler
    data = marked_export()
    assert len(data) > 1000
    response = post_file(login(w.alice), w.org, data)
    assert response.status_code == 302
    assert ImportJob.objects.get().imported_total == 5
    (spool,) = temporary_files
    assert len(spool.written) > len(data) and MARKER.encode() not in spool.written


def test_an_oversized_upload_is_counted_not_kept(keyed_world, login, settings, temporary_files):
    w = keyed_world
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.VAULT_IMPORT_MAX_BYTES = 5000
    response = post_file(login(w.alice), w.org, b"y" * 200_000)
    assert response.status_code == 200 and "larger than" in response.content.decode()
    (spool,) = temporary_files
    assert len(spool.written) < 10_000  # what came past the limit was not stored
    assert not ImportJob.objects.exists()
