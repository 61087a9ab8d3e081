"""Helpers for the Playwright tests."""

from __future__ import annotations


def click_and_load(page, selector: str) -> None:
    """Click something that loads another page (a link, a form's button) and wait for it.

    `page.click` can return before the new document has loaded: reading `page.content()`,
    `page.url` or the database straight after it may still see the old page, or an empty
    document mid-navigation. This waits for the navigation the click starts to reach its
    load event.
    """
    with page.expect_navigation():
        page.click(selector)
