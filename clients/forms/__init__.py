"""Forms of the client org pages, one module per area."""

from .events import EventFilterForm
from .orgs import OrgSettingsForm

__all__ = ["EventFilterForm", "OrgSettingsForm"]
