"""Settings for every deployment, read from the environment (see .env.example).

Development, CI and production use this one module; only the environment
differs. `portal.settings.test` adjusts it for the test suite.
"""

import warnings
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from portal.logging_config import logging_settings

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(environ.Env().str("PORTAL_DATA_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEVELOPMENT_SECRET_KEY = "django-insecure-development-only-never-use-in-production"

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])


def _refuse_insecure_production_settings() -> None:
    """Stop start-up rather than run a production portal on guessable secrets."""
    weak_key = (
        SECRET_KEY.startswith("django-insecure") or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5
    )
    if weak_key:
        raise ImproperlyConfigured(
            "DEBUG is off but SECRET_KEY is a development or weak key. Set SECRET_KEY to "
            "at least 50 random characters, e.g. python -c 'import secrets; "
            "print(secrets.token_urlsafe(50))'."
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "DEBUG is off but ALLOWED_HOSTS is empty. Set ALLOWED_HOSTS to the portal's "
            "host names, comma-separated."
        )


if not DEBUG:
    _refuse_insecure_production_settings()

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "portal",
    "providers",
    "clients",
    "policies",
    "vault",
]

MIDDLEWARE = [
    # First: its line and request id cover every answer, redirects and errors included.
    "portal.logging_config.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # HEAD answered as GET without the body, wherever GET is allowed.
    "portal.middleware.HeadAsGetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Ends any session that skipped the second step of an account that has it on.
    "portal.middleware.TwoStepMiddleware",
    # Org policies on every request: "enforce at login" password changes, vault timeout.
    "policies.middleware.PolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Before ErrorPageMiddleware, so that its pages get the header too.
    "portal.middleware.NoStoreForSignedInMiddleware",
    "portal.middleware.RequestContextMiddleware",
    "portal.middleware.ErrorPageMiddleware",
    # Last, so that a lockout answers before any view runs.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
            ],
            # `{% url %}` that keeps the addresses it built (portal/templatetags).
            "builtins": ["portal.templatetags.remembered_urls"],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'portal.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A transaction takes SQLite's write lock when it begins, so two that read, then write
    # (two admins removing each other) wait in turn instead of one failing "database is
    # locked". Postgres locks rows (select_for_update) instead.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("transaction_mode", "IMMEDIATE")
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The queries every page runs are prepared on the PostgreSQL server, once per connection
# (portal/prepared.py). Turn off behind a pooler that hands one server connection to
# many clients between transactions (PgBouncer in transaction mode).
PREPARED_STATEMENTS = env.bool("PREPARED_STATEMENTS", default=True)
if PREPARED_STATEMENTS and DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # psycopg prepares only on a connection with a threshold; Django's own cursors bind
    # on the client and are never prepared, whatever it is.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 5)

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }

AUTH_USER_MODEL = "portal.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "portal.auth_backend.AccountBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Org policies: master password requirements (policies/types/master_password.py).
    {"NAME": "policies.validators.OrgPolicyPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Whoever controls a mailbox must not gain a vault: e-mail resets are opt-in.
PASSWORD_RESET_BY_EMAIL = env.bool("PASSWORD_RESET_BY_EMAIL", default=False)
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24 * 5

# Authenticator apps list the portal's accounts under this name.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Provider Portal")

# Reverse proxies in front of the portal, each appending to X-Forwarded-For; with 0 the
# header is ignored. One client address serves throttling and the event log.
PROXY_COUNT = env.int("PROXY_COUNT", default=0)
if PROXY_COUNT < 0:
    raise ImproperlyConfigured("PROXY_COUNT is the number of reverse proxies: 0 or more.")

# django-axes. The policy (README, "Sign-in throttling") is portal/throttling.py's: per
# account and address, and per account from addresses it has not signed in from.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = "portal.throttling.lockout_parameters"
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_CALLABLE = "portal.views.locked_out"
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "portal.client_address.client_ip"

SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if REDIS_URL
    else "django.contrib.sessions.backends.db"
)
SESSION_COOKIE_AGE = 60 * 60 * 12
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = DATA_DIR / "media"
# Before the first collectstatic (development, tests) STATIC_ROOT does not exist yet;
# whitenoise then serves from the finders, and its warning says nothing useful.
warnings.filterwarnings("ignore", message="No directory at: ", category=UserWarning)

vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Provider Portal <portal@localhost>")
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")

# Celery: without a broker, tasks run in the calling process (development).
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
# A worker that cannot reach the broker says so on each try and, after these, exits
# non-zero (for the supervisor to restart it) rather than waiting silently.
CELERY_BROKER_CONNECTION_MAX_RETRIES = env.int("CELERY_BROKER_CONNECTION_MAX_RETRIES", default=10)
CELERY_BEAT_SCHEDULE: dict = {
    # Items in the trash for 30 days are deleted for good (task takes no arguments).
    "vault-purge-trash": {"task": "vault.tasks.purge_trash", "schedule": 60 * 60},
    # Imports whose worker died are marked failed and their upload deleted.
    "vault-fail-stale-imports": {"task": "vault.tasks.fail_stale_imports", "schedule": 60},
    # One reminder to invitees who have not accepted 3 days after the email (hourly check).
    "invitation-reminders": {
        "task": "portal.tasks.send_invitation_reminders",
        # Shorter only in the stack test (tests/test_stack.py), to see beat run it.
        "schedule": env.float("INVITATION_REMINDERS_EVERY_SECONDS", default=60 * 60),
    },
    # Invitations that expired unused: one "invitation expired" event each in the org's or
    # provider's log (hourly check; shorter only in the stack test, as above).
    "invitation-expiry": {
        "task": "portal.tasks.record_expired_invitations",
        "schedule": env.float("INVITATION_EXPIRY_EVERY_SECONDS", default=60 * 60),
    },
}

# Vault key-encryption keys: "k2:<base64>,k1:<base64>", the first active.
VAULT_KEKS = env.str("VAULT_KEKS", default="")
VAULT_KEKS_FILE = env.str("VAULT_KEKS_FILE", default="")
# Imports: the largest upload, the most items in one file, the longest single value, and
# how long a running import may go without a heartbeat before it counts as interrupted.
VAULT_IMPORT_MAX_BYTES = env.int("VAULT_IMPORT_MAX_BYTES", default=100 * 1024 * 1024)
VAULT_IMPORT_MAX_ITEMS = env.int("VAULT_IMPORT_MAX_ITEMS", default=100_000)
VAULT_IMPORT_MAX_FIELD_CHARS = env.int("VAULT_IMPORT_MAX_FIELD_CHARS", default=100_000)
VAULT_IMPORT_STALE_SECONDS = env.int("VAULT_IMPORT_STALE_SECONDS", default=120)
# Uploads larger than memory allows wait in a temporary file encrypted under a one-off key,
# never in plain text on disk (an import file holds every credential of an org).
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "vault.imports.upload_handler.EncryptedTemporaryFileUploadHandler",
]


def _refuse_production_without_vault_keys() -> None:
    """A portal without a key-encryption key could not open, or create, any vault."""
    from vault.keys import InvalidKeyConfiguration, load_keyring  # pure crypto, no Django

    try:
        load_keyring(keks=VAULT_KEKS, keks_file=VAULT_KEKS_FILE)
    except InvalidKeyConfiguration as error:
        raise ImproperlyConfigured(
            f"DEBUG is off but the vault has no usable key-encryption key ({error}). Set "
            "VAULT_KEKS='k1:<base64 of 32 random bytes>' or VAULT_KEKS_FILE to a file holding "
            'that line; make one with: python -c "import base64, os; '
            "print('k1:' + base64.b64encode(os.urandom(32)).decode())\""
        ) from None


if not DEBUG:
    _refuse_production_without_vault_keys()

# Security headers. Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]  # container healthchecks speak plain HTTP
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_FAILURE_VIEW = "portal.views.csrf_failure"
# Debug pages and error reports hide the vault keys' settings too (VAULT_KEKS...).
DEFAULT_EXCEPTION_REPORTER_FILTER = "portal.error_reports.PortalExceptionReporterFilter"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# One line per request and per task, each with its id; JSON with LOG_FORMAT=json (README,
# "Logs and error reports"). portal/logging_config.py says what a line may hold.
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured("LOG_FORMAT is 'text' (the default) or 'json'.")
LOGGING = logging_settings(log_format=LOG_FORMAT, level=env.str("LOG_LEVEL", default="INFO"))

# Error reports to Sentry, scrubbed (portal/logging_sentry.py says of what).
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from portal.logging_sentry import init_sentry

    init_sentry(dsn=SENTRY_DSN, environment=env.str("SENTRY_ENVIRONMENT", default="production"))
