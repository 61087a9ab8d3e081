import os

from django.core.wsgi import get_wsgi_application

from portal.logging_startup import wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.base")
# A misconfiguration stops gunicorn with one line, instead of workers failing in a loop.
application = wsgi_application(get_wsgi_application)
