"""Every form field of the portal's pages has a label tied to it (for= naming its id, or
a label around it, or an aria-label), and every label's for= names a field of the page."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from tests.vault.conftest import give_keys, make_item

pytestmark = pytest.mark.django_db

SKIP_TYPES = {"hidden", "submit", "button", "reset", "image"}


class FormAudit(HTMLParser):
    def __init__(self):
        super().__init__()
        self.fields: list[dict] = []  # attrs of input/select/textarea, with "wrapped"
        self.label_for: list[str] = []
        self.ids: set[str] = set()
        self.open_labels = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "label":
            if attrs.get("for"):
                self.label_for.append(attrs["for"])
            else:
                self.open_labels += 1
        elif tag in ("input", "select", "textarea"):
            if tag == "input" and attrs.get("type", "text") in SKIP_TYPES:
                return
            self.fields.append({**attrs, "wrapped": self.open_labels > 0, "tag": tag})

    def handle_endtag(self, tag):
        if tag == "label" and self.open_labels:
            self.open_labels -= 1


def unlabelled(html: str) -> list[str]:
    audit = FormAudit()
    audit.feed(html)
    problems = [
        f"label for={target!r} names no element"
        for target in audit.label_for
        if target not in audit.ids
    ]
    for field in audit.fields:
        tied = field.get("id") in audit.label_for or field["wrapped"] or field.get("aria-label")
        if not tied:
            problems.append(f"{field['tag']} name={field.get('name')!r} has no label")
    return problems


def pages(world):
    give_keys(world.org)
    item = make_item(world.alice, world.org, [world.collection])
    org, provider = world.org.pk, world.provider.pk
    as_owner = [
        reverse("org_overview", args=[org]),
        reverse("org_members", args=[org]),
        reverse("org_groups", args=[org]),
        reverse("org_collections", args=[org]),
        reverse("org_events", args=[org]),
        reverse("org_settings", args=[org]),
        reverse("vault_item_list", args=[org]),
        reverse("vault_item_detail", args=[org, item.pk]),
        reverse("vault_item_edit", args=[org, item.pk]),
        reverse("password_change"),
        reverse("two_step"),
    ]
    as_provider_admin = [
        reverse("provider_dashboard", args=[provider]),
        reverse("provider_users", args=[provider]),
        reverse("provider_users_invite", args=[provider]),
        reverse("provider_billing", args=[provider]),
        reverse("provider_events", args=[provider]),
        reverse("provider_client_events", args=[provider]),
        reverse("provider_client_create", args=[provider]),
    ]
    return [(world.alice, url) for url in as_owner] + [
        (world.provider_admin, url) for url in as_provider_admin
    ]


def test_every_field_has_a_label(world, login):
    problems = {}
    for user, url in pages(world):
        response = login(user).get(url)
        assert response.status_code == 200, url
        found = unlabelled(response.content.decode())
        if found:
            problems[url] = found
    assert not problems, problems


def test_the_audit_finds_an_unlabelled_field():
    assert unlabelled('<label for="a">A</label><input id="a" name="a">') == []
    assert unlabelled('<label>B <input name="b"></label>') == []
    assert unlabelled('<input name="c">') == ["input name='c' has no label"]
    assert unlabelled('<label for="x">X</label>') == ["label for='x' names no element"]
