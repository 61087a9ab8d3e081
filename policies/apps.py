from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    name = "policies"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .middleware import note_sign_in

        user_logged_in.connect(note_sign_in, dispatch_uid="policies.middleware.note_sign_in")
