"""`{% url %}` keeps the addresses it built, and answers exactly as Django's tag."""

from __future__ import annotations

import uuid

import pytest
from django.template import Context, Template
from django.urls import NoReverseMatch, reverse, set_script_prefix

from portal.templatetags.remembered_urls import _remembered


def _render(source: str, **context) -> str:
    return Template(source).render(Context(context))


def test_same_addresses_as_reverse_and_built_once():
    org_id = uuid.uuid4()
    _remembered.cache_clear()

    first = _render("{% url 'org_members' org_id %}", org_id=org_id)
    second = _render("{% url 'org_members' org_id=org_id %}", org_id=org_id)
    again = _render("{% url 'org_members' org_id %}", org_id=org_id)

    assert first == again == reverse("org_members", args=[org_id])
    assert second == reverse("org_members", kwargs={"org_id": org_id})
    info = _remembered.cache_info()
    assert (info.misses, info.hits) == (2, 1)


def test_other_arguments_and_as_var_work_as_before():
    class Org:
        def __str__(self):
            return str(self.pk)

        pk = uuid.uuid4()

    assert _render("{% url 'org_members' org %}", org=Org()) == f"/orgs/{Org.pk}/members/"
    assert _render("{% url 'nowhere' as where %}[{{ where }}]") == "[]"
    with pytest.raises(NoReverseMatch):
        _render("{% url 'nowhere' %}")


def test_the_script_prefix_is_part_of_the_address():
    org_id = uuid.uuid4()
    try:
        set_script_prefix("/portal/")
        prefixed = _render("{% url 'org_members' org_id %}", org_id=org_id)
    finally:
        set_script_prefix("/")

    assert prefixed == f"/portal/orgs/{org_id}/members/"
    assert _render("{% url 'org_members' org_id %}", org_id=org_id) == f"/orgs/{org_id}/members/"
