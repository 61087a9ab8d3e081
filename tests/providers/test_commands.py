"""Operator commands: provider_status, provider_disable / provider_enable, createprovider."""

import pytest
from django.core.management import CommandError, call_command

from clients.models import MemberStatus, Plan
from providers.models import Provider, ProviderRole
from tests import factories

pytestmark = pytest.mark.django_db


def test_provider_status_prints_clients_seats_and_admins(world, capsys):
    factories.OrganizationFactory(
        name="Beta", plan=Plan.ENTERPRISE, seats=3, provider=world.provider
    )
    factories.MembershipFactory(org=world.org, status=MemberStatus.REVOKED)
    call_command("provider_status", "demo msp")
    out = capsys.readouterr().out
    assert f"Demo MSP ({world.provider.pk}), enabled" in out
    assert "Provider admins: 1 confirmed" in out
    assert world.provider_admin.email in out
    assert "Fewer than two confirmed provider admins" in out
    assert "Clients: 2" in out
    alice_line = next(line for line in out.splitlines() if "Alice Co" in line)
    assert alice_line.split()[3:6] == ["10", "4", "6"]
    assert "Teams: 1 clients, 4 of 10 seats used" in out
    assert "Enterprise: 1 clients, 0 of 3 seats used" in out
    assert "Other Co" not in out


def test_provider_status_by_id_and_unknown(world, capsys):
    call_command("provider_status", str(world.provider.pk))
    assert "Demo MSP" in capsys.readouterr().out
    with pytest.raises(CommandError, match="No provider is named"):
        call_command("provider_status", "Nobody")


def test_ambiguous_name_asks_for_the_id(world):
    factories.ProviderFactory(name="Demo MSP")
    with pytest.raises(CommandError, match="give the provider's id"):
        call_command("provider_status", "Demo MSP")


def test_createprovider_still_works_and_its_provider_has_a_dashboard(db, capsys, client):
    call_command("createprovider", "Acme IT", "--admin-email", "boss@acme.test")
    provider = Provider.objects.get(name="Acme IT")
    admin = provider.provider_users.get()
    assert admin.role == ProviderRole.ADMIN and admin.is_confirmed
    client.force_login(admin.user, backend="portal.auth_backend.AccountBackend")
    response = client.get(f"/providers/{provider.pk}/")
    assert response.status_code == 200 and b"No clients yet" in response.content
    call_command("provider_status", "Acme IT")
    assert "Clients: 0" in capsys.readouterr().out


def test_provider_status_asks_the_permission_layer_who_is_an_admin(world, capsys, monkeypatch):
    from portal import access

    monkeypatch.setitem(
        access._PROVIDER_RELATIONSHIP, ProviderRole.SERVICE_USER, access.Relationship.PROVIDER_ADMIN
    )
    call_command("provider_status", "Demo MSP")
    out = capsys.readouterr().out
    assert "Provider admins: 2 confirmed" in out and "Service users: 0" in out
    assert world.service_user.email in out


def test_disable_and_enable_report_what_they_did(world, capsys):
    call_command("provider_disable", "Demo MSP")
    out = capsys.readouterr().out
    assert "Disabled Demo MSP and 1 of its clients." in out
    assert f"manage.py provider_enable {world.provider.pk}" in out
    call_command("provider_enable", "Demo MSP")
    out = capsys.readouterr().out
    assert "Enabled Demo MSP and 1 of its clients." in out and "provider_enable" not in out
    with pytest.raises(CommandError, match="No provider is named"):
        call_command("provider_disable", "Nobody")
