"""Accessibility basics in the browser: labels, keyboard use, visible focus, contrast, and a
sidebar that becomes a drawer on small screens."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.factories import Factory
from tests.web.conftest import Person, screenshot

pytestmark = pytest.mark.browser

PAGES = [
    "/",
    "/accounts",
    "/accounts/new",
    "/organizations",
    "/organizations/new",
    "/organizations/new?kind=reseller",
    "/users",
    "/users/new",
    "/api-keys",
    "/api-keys/new",
    "/plans",
    "/plans/monthly/edit",
    "/profile",
    "/organization",
    "/domains",
    "/domains/new",
    "/orders",
]

UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(e => e.type !== 'hidden')
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
  .map(e => e.name || e.id || e.outerHTML)"""

# WCAG contrast of every piece of visible text against the background behind it.
LOW_CONTRAST = """() => {
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = el => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const bad = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!node.textContent.trim() || !el || !el.checkVisibility()) continue;
    if (el.closest('.sr-only, option, script')) continue;
    const style = getComputedStyle(el);
    const fg = rgb(style.color);
    if (fg.length === 4 && fg[3] === 0) continue;  // gradient-filled text, checked by eye
    const [l1, l2] = [lum(fg.slice(0, 3)), lum(background(el))].sort((a, b) => b - a);
    const ratio = (l1 + 0.05) / (l2 + 0.05);
    const size = parseFloat(style.fontSize), weight = parseInt(style.fontWeight, 10);
    const large = size >= 24 || (size >= 18.66 && weight >= 700);
    const text = node.textContent.trim().slice(0, 40);
    if (ratio < (large ? 3 : 4.5)) bad.push(`${text}: ${ratio.toFixed(2)}`);
  }
  return bad;
}"""


def test_every_input_has_a_label_and_text_has_enough_contrast(
    page: Page, operator_admin: Person
) -> None:
    page.goto("/login")
    assert page.evaluate(UNLABELLED) == []
    assert page.evaluate(LOW_CONTRAST) == []
    operator_admin.log_in(page)
    for path in PAGES:
        page.goto(path)
        assert page.evaluate(UNLABELLED) == [], path
        assert page.evaluate(LOW_CONTRAST) == [], path
    page.goto("/organizations/new")
    page.get_by_role("button", name="Create customer").click()  # a page full of errors
    assert page.evaluate(LOW_CONTRAST) == []


def test_keyboard_only_use_with_visible_focus(page: Page, operator_admin: Person) -> None:
    page.goto("/login")
    page.keyboard.press("Tab")  # the brand
    page.keyboard.press("Tab")
    expect(page.get_by_label("E-mail")).to_be_focused()
    page.keyboard.type(operator_admin.email)
    page.keyboard.press("Tab")
    page.keyboard.type(operator_admin.password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Tab")  # the brand
    page.keyboard.press("Tab")  # the first navigation link
    home = page.get_by_role("navigation", name="Main").get_by_role("link", name="Home")
    expect(home).to_be_focused()
    outline = home.evaluate(
        "e => getComputedStyle(e).outlineStyle + ' ' + getComputedStyle(e).outlineWidth"
    )
    assert outline.startswith("solid") and not outline.endswith(" 0px")
    plans = page.get_by_role("navigation", name="Main").get_by_role("link", name="Plans")
    for _ in range(10):  # past however many links come before it
        page.keyboard.press("Tab")
        if plans.evaluate("e => e === document.activeElement"):
            break
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/plans$"))


def test_the_sidebar_is_a_drawer_on_a_phone(
    page: Page, factory: Factory, person: Callable[..., Person]
) -> None:
    reseller = factory.reseller("Acme Hosting")
    factory.customer(reseller, "Hotel Bella Vista")
    page.set_viewport_size({"width": 390, "height": 844})
    person(reseller, "boss@acme.example").log_in(page)
    sidebar = page.get_by_role("complementary", name="Sidebar")
    menu = page.get_by_role("button", name="Open menu")
    expect(sidebar).not_to_be_in_viewport()
    expect(menu).to_have_attribute("aria-expanded", "false")
    screenshot(page, "mobile-home")

    menu.click()
    expect(sidebar).to_be_in_viewport()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(sidebar.get_by_role("link", name="Home")).to_be_focused()
    screenshot(page, "mobile-menu")
    page.keyboard.press("Escape")
    expect(sidebar).not_to_be_in_viewport()
    expect(menu).to_be_focused()

    menu.click()
    sidebar.get_by_role("link", name="Customers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Customers")
    expect(sidebar).not_to_be_in_viewport()
    screenshot(page, "mobile-customers")
