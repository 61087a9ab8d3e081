"""Building baselines and their editor's POST data for the baseline tests."""

from django.urls import reverse

from policies.baselines.services import baseline_create
from policies.types import registered_types
from portal.access import resolve_provider


def baseline_settings(**wanted) -> dict:
    """Every type off with its defaults, except `key={"settings"...}` / `key=True`."""
    settings = {}
    for policy_type in registered_types():
        entry = wanted.get(policy_type.key)
        own = entry if isinstance(entry, dict) else {}
        settings[policy_type.key] = {
            "enabled": entry is not None and entry is not False,
            "settings": {**policy_type.default_settings(), **own},
        }
    return settings


def make_baseline(provider, admin_user, name="Standard", **wanted):
    actor = resolve_provider(admin_user, provider)
    return baseline_create(actor=actor, name=name, settings=baseline_settings(**wanted))


def editor_data(name: str = "Standard", **wanted) -> dict:
    """The editor's form as a browser posts it: `key=True` or `key={settings}` switch on."""
    data = {"name": name}
    for key, entry in baseline_settings(**wanted).items():
        if entry["enabled"]:
            data[f"{key}-enabled"] = "on"
        for field, value in entry["settings"].items():
            if isinstance(value, bool):
                if value:
                    data[f"{key}-{field}"] = "on"
            else:
                data[f"{key}-{field}"] = str(value)
    return data


def baselines_url(provider) -> str:
    return reverse("provider_baselines", kwargs={"provider_id": provider.pk})


def baseline_url(name: str, baseline, provider=None) -> str:
    return reverse(
        name, kwargs={"provider_id": (provider or baseline.provider).pk, "baseline_id": baseline.pk}
    )


def drift_url(provider, org) -> str:
    return reverse(
        "provider_client_baseline", kwargs={"provider_id": provider.pk, "client_id": org.pk}
    )
