from django.contrib import admin

from .models import (
    Collection,
    CollectionGroupGrant,
    CollectionMemberGrant,
    Group,
    Membership,
    Organization,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ["email", "user", "role", "status"]
    raw_id_fields = ["user"]
    extra = 0
    show_change_link = True


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "plan", "seats", "enabled", "provider", "created_at"]
    list_filter = ["plan", "enabled"]
    search_fields = ["name"]
    fields = ["name", "plan", "seats", "enabled", "provider", "admins_access_all_items"]
    raw_id_fields = ["provider"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["email", "org", "role", "status"]
    list_filter = ["role", "status"]
    search_fields = ["email", "org__name"]
    fields = [
        "org",
        "user",
        "email",
        "role",
        "status",
        "prior_status",
        "can_access_event_logs",
        "can_access_import_export",
        "can_manage_collections",
        "can_manage_groups",
        "can_manage_policies",
        "can_manage_users",
    ]
    raw_id_fields = ["org", "user"]


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ["name", "org"]
    search_fields = ["name", "org__name"]
    fields = ["org", "name", "members"]
    raw_id_fields = ["org", "members"]


class CollectionMemberGrantInline(admin.TabularInline):
    model = CollectionMemberGrant
    fields = ["membership", "level"]
    raw_id_fields = ["membership"]
    extra = 0


class CollectionGroupGrantInline(admin.TabularInline):
    model = CollectionGroupGrant
    fields = ["group", "level"]
    raw_id_fields = ["group"]
    extra = 0


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    list_display = ["name", "org", "is_default"]
    search_fields = ["name", "org__name"]
    fields = ["org", "name", "is_default"]
    raw_id_fields = ["org"]
    inlines = [CollectionMemberGrantInline, CollectionGroupGrantInline]
