from django.conf import settings


def portal(request):
    return {"password_reset_by_email": settings.PASSWORD_RESET_BY_EMAIL}
