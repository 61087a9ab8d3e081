from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.decorators.http import require_http_methods

from . import views
from .forms import LoginForm

# Django's form views also take PUT; the portal's forms speak GET and POST only.
get_or_post = require_http_methods(["GET", "POST"])

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz/", views.healthz, name="healthz"),
    path(
        "accounts/login/",
        get_or_post(
            auth_views.LoginView.as_view(
                authentication_form=LoginForm, redirect_authenticated_user=True
            )
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/change/",
        get_or_post(auth_views.PasswordChangeView.as_view()),
        name="password_change",
    ),
    path(
        "accounts/password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("accounts/two-step/", views.two_step, name="two_step"),
    # Operators hand out set-password links (createprovider); this page is always on.
    path(
        "accounts/set-password/<uidb64>/<token>/",
        get_or_post(auth_views.PasswordResetConfirmView.as_view(post_reset_login=False)),
        name="password_reset_confirm",
    ),
    path(
        "accounts/set-password/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("invitations/<str:token>/", views.invitation_accept_view, name="invitation_accept"),
    path("admin/", admin.site.urls),
    path("providers/", include("providers.urls")),
    path("orgs/", include("clients.urls")),
    path("orgs/<uuid:org_id>/vault/", include("vault.urls")),
]

if settings.PASSWORD_RESET_BY_EMAIL:
    urlpatterns += [
        path(
            "accounts/password/reset/",
            get_or_post(auth_views.PasswordResetView.as_view()),
            name="password_reset",
        ),
        path(
            "accounts/password/reset/sent/",
            auth_views.PasswordResetDoneView.as_view(),
            name="password_reset_done",
        ),
    ]
