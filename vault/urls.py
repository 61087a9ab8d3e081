"""Vault pages, mounted under orgs/<uuid:org_id>/vault/."""

urlpatterns: list = []
