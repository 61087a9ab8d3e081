# One image for the web app (gunicorn), the Celery worker and Celery beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=portal.settings.base PORTAL_DATA_DIR=/data

RUN useradd --create-home --uid 1000 portal && mkdir -p /data && chown portal /data
WORKDIR /app
# Dependencies first, so that code changes do not reinstall them.
COPY pyproject.toml ./
RUN pip install --upgrade pip && pip install .
COPY . .
# collectstatic runs with throwaway production-shaped settings: nothing here is used at run time.
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    ALLOWED_HOSTS=build \
    VAULT_KEKS="build:$(python -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')" \
    python manage.py collectstatic --noinput \
 && chown -R portal /data
USER portal
EXPOSE 8000
# gunicorn.conf.py: port 8000, 3 workers (WEB_CONCURRENCY), an access log without query strings.
CMD ["gunicorn", "--config", "gunicorn.conf.py", "portal.wsgi:application"]
