from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.decorators.http import require_http_methods

from policies import views as policy_views

from . import views
from .accounts import SetPasswordView, set_password_open
from .forms import LoginForm

# Django's form views also take PUT; the portal's forms speak GET and POST only.
get_or_post = require_http_methods(["GET", "POST"])

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz/", views.healthz, name="healthz"),
    path("livez/", views.livez, name="livez"),
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
    path("accounts/unlock/", policy_views.session_unlock, name="session_unlock"),
    path(
        "accounts/two-step/recovery-codes/",
        views.two_step_recovery_codes,
        name="two_step_recovery_codes",
    ),
    # Operators hand out set-password links (createprovider); these pages are always on.
    # The link carries its token in the query string; see portal/accounts.py.
    path("accounts/set-password/", set_password_open, name="set_password_open"),
    path(
        "accounts/set-password/<uidb64>/<token>/",
        get_or_post(SetPasswordView.as_view()),
        name="password_reset_confirm",
    ),
    path(
        "accounts/set-password/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("invitations/open/", views.invitation_open, name="invitation_open"),
    path("invitations/accept/", views.invitation_accept_view, name="invitation_accept"),
    # Links of the old form, with the token in the path: refused without a look-up.
    path("invitations/<str:token>/", views.invitation_link_in_path, name="invitation_link_in_path"),
    path("admin/", admin.site.urls),
    path("providers/", include("providers.urls")),
    path("providers/<uuid:provider_id>/baselines/", include("policies.baselines.urls")),
    path("orgs/", include("clients.urls")),
    path("orgs/<uuid:org_id>/vault/", include("vault.urls")),
    path("orgs/<uuid:org_id>/policies/", include("policies.urls")),
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
