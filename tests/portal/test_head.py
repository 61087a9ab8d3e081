"""HEAD is answered wherever GET is (uptime monitors use it): the GET's status and headers,
no body. A route that refuses GET refuses HEAD too."""

import pytest
from django.http import HttpResponse, StreamingHttpResponse
from django.test import RequestFactory
from django.urls import reverse

from portal.middleware import HeadAsGetMiddleware

pytestmark = pytest.mark.django_db


def test_the_login_page_answers_head_like_get(client):
    get = client.get(reverse("login"))
    head = client.head(reverse("login"))
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head["Content-Type"] == get["Content-Type"]
    assert int(head["Content-Length"]) == len(get.content) > 0


def test_an_org_page_answers_head_for_its_members_only(world, login):
    url = reverse("org_members", args=[world.org.pk])
    assert login(world.alice).head(url).status_code == 200
    assert login(world.bob).head(url).status_code == 403  # as GET: bob may not manage members
    assert login(world.charlie).head(url).status_code == 404
    anonymous = login(None).head(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))


def test_a_view_decorated_require_get_answers_head(world, login):
    response = login(world.alice).head(reverse("home"))  # @require_GET
    assert response.status_code == 302


def test_a_route_that_refuses_get_refuses_head(world, login):
    response = login(world.alice).head(reverse("org_members_bulk", args=[world.org.pk]))
    assert response.status_code == 405
    assert "POST" in response["Allow"]


def test_the_view_sees_get_and_the_body_is_dropped():
    seen = []

    def view(request):
        seen.append(request.method)
        return HttpResponse(b"the page", headers={"Content-Length": "8"})

    request = RequestFactory().head("/")
    response = HeadAsGetMiddleware(view)(request)
    assert seen == ["GET"] and request.method == "HEAD"  # the log line still says HEAD
    assert response.content == b"" and response["Content-Length"] == "8"


def test_a_streamed_body_is_dropped_too():
    response = HeadAsGetMiddleware(lambda request: StreamingHttpResponse(iter([b"a", b"b"])))(
        RequestFactory().head("/")
    )
    assert b"".join(response.streaming_content) == b""


def test_other_methods_pass_untouched():
    seen = []

    def view(request):
        seen.append(request.method)
        return HttpResponse(b"posted")

    response = HeadAsGetMiddleware(view)(RequestFactory().post("/"))
    assert seen == ["POST"] and response.content == b"posted"
