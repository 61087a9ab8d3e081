from django.contrib import admin
from django.db import transaction

from .baselines.drift import assignment_drift_refresh
from .models import Baseline, Policy


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    """The operator's escape hatch: no hook runs here, but a client's drift from its
    provider baseline stays true."""

    list_display = ["org", "type", "enabled"]
    list_filter = ["type", "enabled"]
    search_fields = ["org__name"]
    fields = ["org", "type", "enabled", "settings"]
    raw_id_fields = ["org"]

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            assignment_drift_refresh(org=obj.org)

    def delete_model(self, request, obj):
        with transaction.atomic():
            super().delete_model(request, obj)
            assignment_drift_refresh(org=obj.org)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            orgs = {policy.org for policy in queryset.select_related("org")}
            super().delete_queryset(request, queryset)
            for org in orgs:
                assignment_drift_refresh(org=org)


@admin.register(Baseline)
class BaselineAdmin(admin.ModelAdmin):
    list_display = ["name", "provider", "updated_at"]
    search_fields = ["name", "provider__name"]
    readonly_fields = ["provider", "name", "settings", "created_at", "updated_at"]
