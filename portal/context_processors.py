from django.conf import settings

# The providers whose one-admin (failover) banner this session dismissed (provider ids).
DISMISSED_BANNERS_SESSION_KEY = "dismissed_failover_banners"


def portal(request):
    return {
        "password_reset_by_email": settings.PASSWORD_RESET_BY_EMAIL,
        "failover_banner_dismissed": lambda: _banner_dismissed(request),
    }


def _banner_dismissed(request) -> bool:
    """Whether this session dismissed the banner of the provider in the URL (evaluated only
    by the pages that show the banner)."""
    match = getattr(request, "resolver_match", None)
    provider_id = match.kwargs.get("provider_id") if match else None
    session = getattr(request, "session", None)
    if provider_id is None or session is None:
        return False
    return str(provider_id) in session.get(DISMISSED_BANNERS_SESSION_KEY, [])
