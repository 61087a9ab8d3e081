from django.contrib import admin

from .models import Provider, ProviderUser
from .services import provider_set_enabled


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
    # Disabling goes through the actions, so the provider's clients are disabled with it.
    readonly_fields = ["enabled"]
    raw_id_fields = ["internal_org"]
    inlines = [ProviderUserInline]
    actions = ["disable_providers", "enable_providers"]

    @admin.action(description="Disable the selected providers and their clients")
    def disable_providers(self, request, queryset):
        self._set_enabled(request, queryset, enabled=False)

    @admin.action(description="Enable the selected providers and their clients")
    def enable_providers(self, request, queryset):
        self._set_enabled(request, queryset, enabled=True)

    def _set_enabled(self, request, queryset, *, enabled: bool) -> None:
        clients = sum(
            provider_set_enabled(provider=provider, enabled=enabled, user=request.user)
            for provider in queryset
        )
        verb = "Enabled" if enabled else "Disabled"
        self.message_user(
            request, f"{verb} {queryset.count()} providers and {clients} of their clients."
        )


@admin.register(ProviderUser)
class ProviderUserAdmin(admin.ModelAdmin):
    list_display = ["email", "provider", "role", "status"]
    list_filter = ["role", "status"]
    search_fields = ["email"]
    fields = ["provider", "user", "email", "role", "status", "access_all_clients", "client_scope"]
    raw_id_fields = ["provider", "user"]
    filter_horizontal = ["client_scope"]
