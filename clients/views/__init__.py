"""Client org pages, one module per area; `orgs` holds the layout context every page uses."""

from .orgs import org_page_context

__all__ = ["org_page_context"]
