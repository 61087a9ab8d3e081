"""Gunicorn settings of the web process (the Dockerfile and docker-compose.yml use them).

The access log records each request's path without its query string and without the
Referer: secret links (invitations, set-password) carry their token in the query string
of one request, and whoever reads the logs must not be able to use them. Searches are
sent by POST, so nothing else secret travels in a URL either.
"""

import os

bind = [os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")]
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
accesslog = "-"
# %(U)s is the path alone. Never %(r)s (the request line), %(q)s (the query string) or
# %(f)s (the Referer, a whole URL).
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s" %(M)sms'


def post_worker_init(worker):
    """The application is loaded: its objects (modules, URL patterns, settings) live as
    long as the worker. Frozen, Python's cycle collector no longer walks them on each
    full collection, which otherwise took a tenth of a page's CPU (portal README,
    "Performance")."""
    import gc

    gc.freeze()
