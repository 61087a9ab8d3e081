from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal core"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .two_step import note_sign_in

        user_logged_in.connect(note_sign_in, dispatch_uid="portal.two_step.note_sign_in")
