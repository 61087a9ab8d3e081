from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views
from .forms import LoginForm

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=LoginForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    # Operators hand out set-password links (createprovider); this page is always on.
    path(
        "accounts/set-password/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(post_reset_login=False),
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
        path("accounts/password/reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
        path(
            "accounts/password/reset/sent/",
            auth_views.PasswordResetDoneView.as_view(),
            name="password_reset_done",
        ),
    ]
