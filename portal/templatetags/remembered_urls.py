"""`{% url %}`, remembering each address it has built (a template builtin, see settings).

Django's `reverse` walks the URL patterns each time: some 20 µs, and an org page builds
20-odd links (the sidebar, the account menu, a link per row). An address depends only
on the view's name, its arguments, the URLconf and the script prefix, so once built it
is kept, per process, for the same four. Only plain arguments (text, numbers, UUIDs)
are remembered; anything else is reversed each time as before.
"""

from __future__ import annotations

from functools import lru_cache
from uuid import UUID

from django import template
from django.conf import settings
from django.template import defaulttags
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape

register = template.Library()

_PLAIN = (str, int, UUID)


@lru_cache(maxsize=8192)
def _remembered(urlconf, prefix: str, view_name: str, args: tuple, kwargs: tuple, app) -> str:
    return reverse(view_name, urlconf, args=args, kwargs=dict(kwargs), current_app=app)


def remembered_reverse(view_name: str, args=(), kwargs=None, current_app=None) -> str:
    kwargs = kwargs or {}
    values = (*args, *kwargs.values())
    if not all(type(value) in _PLAIN for value in values):
        return reverse(view_name, args=args, kwargs=kwargs, current_app=current_app)
    return _remembered(
        get_urlconf() or settings.ROOT_URLCONF,
        get_script_prefix(),
        view_name,
        tuple(args),
        tuple(sorted(kwargs.items())),
        current_app,
    )


class RememberedURLNode(defaulttags.URLNode):
    def render(self, context):
        from django.urls import NoReverseMatch

        args = [arg.resolve(context) for arg in self.args]
        kwargs = {k: v.resolve(context) for k, v in self.kwargs.items()}
        view_name = self.view_name.resolve(context)
        try:
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
        url = ""
        try:
            url = remembered_reverse(view_name, args, kwargs, current_app)
        except NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token):
    """Django's `{% url %}` (same syntax, same errors), remembering what it built."""
    node = defaulttags.url(parser, token)
    return RememberedURLNode(node.view_name, node.args, node.kwargs, node.asvar)
