from django.urls import path

from . import views

urlpatterns = [
    path("", views.policies, name="org_policies"),
    path("account-recovery/", views.account_recovery, name="org_account_recovery"),
    path(
        "account-recovery/<uuid:member_id>/",
        views.account_recovery_reset,
        name="org_account_recovery_reset",
    ),
    path("<slug:policy_key>/", views.policy_edit, name="org_policy_edit"),
]
