from django.contrib import admin

from .models import Provider, ProviderUser


class ProviderUserInline(admin.TabularInline):
    model = ProviderUser
    fields = ["email", "user", "role", "status", "access_all_clients"]
    raw_id_fields = ["user"]
    extra = 0


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["name", "business_name", "billing_email", "enabled", "created_at"]
    list_filter = ["enabled"]
    search_fields = ["name", "business_name"]
    fields = ["name", "business_name", "billing_email", "enabled", "internal_org"]
    raw_id_fields = ["internal_org"]
    inlines = [ProviderUserInline]


@admin.register(ProviderUser)
class ProviderUserAdmin(admin.ModelAdmin):
    list_display = ["email", "provider", "role", "status"]
    list_filter = ["role", "status"]
    search_fields = ["email"]
    fields = ["provider", "user", "email", "role", "status", "access_all_clients", "client_scope"]
    raw_id_fields = ["provider", "user"]
    filter_horizontal = ["client_scope"]
