from django.contrib import admin

from .models import Policy


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ["org", "type", "enabled"]
    list_filter = ["type", "enabled"]
    search_fields = ["org__name"]
    fields = ["org", "type", "enabled", "settings"]
    raw_id_fields = ["org"]
