"""The sign-in backend: Django's ModelBackend, with the signed-in user read by a prepared
query. Every signed-in request reads its user (`request.user`); building and compiling
that `get(pk=...)` cost more than the database's work (portal/prepared.py)."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from .models import User
from .prepared import PreparedQuery

_USER = PreparedQuery(lambda user_id: User._default_manager.filter(pk=user_id).order_by()[:1])


class AccountBackend(ModelBackend):
    def get_user(self, user_id):
        user = _USER.first(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
