"""The password_set hook, as a Django password validator (AUTH_PASSWORD_VALIDATORS), so
every way of setting a password (invitation, change, set-password link, account recovery,
the admin site) checks the policies of the orgs the account belongs to."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class OrgPolicyPasswordValidator:
    def validate(self, password: str, user=None) -> None:
        problems = password_policy_problems(user=user, password=password)
        if problems:
            raise ValidationError(
                "Your organization's policy needs a password with " + "; ".join(problems) + ".",
                code="org_password_policy",
            )

    def get_help_text(self) -> str:
        return "Your organizations' policies may ask for more."


def password_policy_problems(*, user, password: str) -> list[str]:
    from .selectors import binding_settings
    from .types import policy_type_for

    if user is None:
        return []
    problems: list[str] = []
    for key, settings in binding_settings(user=user).items():
        problems += policy_type_for(key).password_problems(
            settings=settings, password=password, user=user
        )
    return problems


def password_change_needed_at_login(*, user, password: str) -> bool:
    from .selectors import binding_settings
    from .types import policy_type_for

    return any(
        policy_type_for(key).login_needs_password_change(
            settings=settings, password=password, user=user
        )
        for key, settings in binding_settings(user=user).items()
    )
