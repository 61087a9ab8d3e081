"""Vault pages, mounted under orgs/<uuid:org_id>/vault/."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.item_list, name="vault_item_list"),
    path("new/", views.item_type_choose, name="vault_item_type_choose"),
    path("new/<str:item_type>/", views.item_new, name="vault_item_new"),
    path("items/<uuid:item_id>/", views.item_detail, name="vault_item_detail"),
    path("items/<uuid:item_id>/edit/", views.item_edit, name="vault_item_edit"),
    path("items/<uuid:item_id>/copy/", views.item_copy_password, name="vault_item_copy"),
    path("items/<uuid:item_id>/totp/", views.item_totp, name="vault_item_totp"),
    path("items/<uuid:item_id>/favorite/", views.item_favorite, name="vault_item_favorite"),
    path("items/<uuid:item_id>/move/", views.item_move_view, name="vault_item_move"),
    path("items/<uuid:item_id>/trash/", views.item_trash_view, name="vault_item_trash"),
    path("items/<uuid:item_id>/restore/", views.item_restore_view, name="vault_item_restore"),
    path("items/<uuid:item_id>/delete/", views.item_delete_view, name="vault_item_delete"),
]
