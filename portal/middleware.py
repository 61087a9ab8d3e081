"""Request-wide plumbing: the client address for the event log, and error pages."""

from axes.helpers import get_client_ip_address
from django.shortcuts import render

from .events import current_ip_address


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_ip_address.set(get_client_ip_address(request))
        try:
            return self.get_response(request)
        finally:
            current_ip_address.reset(token)


class ErrorPageMiddleware:
    """Django answers 405 with an empty body; give it the portal's own page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 405 and not response.content:
            allowed = response.get("Allow", "")
            response = render(request, "405.html", {"allowed": allowed}, status=405)
            response["Allow"] = allowed
        return response
