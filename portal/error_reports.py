"""What debug pages and error reports may show."""

import re

from django.views.debug import SafeExceptionReporterFilter


class PortalExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, which also hides settings and request variables naming a KEK,
    and the service URLs that may carry a password (Redis, the broker, Sentry's DSN).

    Django hides names with KEY, SECRET, PASS, TOKEN...; VAULT_KEKS, VAULT_KEKS_FILE,
    REDIS_URL and CELERY_BROKER_URL match none of them, and the development server
    copies the environment into request.META.
    """

    hidden_settings = re.compile(
        SafeExceptionReporterFilter.hidden_settings.pattern + "|KEK|REDIS|BROKER|LOCATION|DSN",
        flags=re.IGNORECASE,
    )
