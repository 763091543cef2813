"""The operator console in a real browser (Debian's chromium, driven by Playwright), through the
gateway of a platform that ``retail up`` started: staff keep the catalog and the stock, follow
orders and their sagas; an admin redrives a dead letter, edits a template, changes a role and
follows a request through the audit log. Every page visited is saved as a screenshot under
``.retail/console-screenshots`` and must log no error in the browser's console."""

import asyncio
import struct
import uuid
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from retail_console.testing.browser import CHROMIUM_ARGS, chromium
from retail_e2e import Platform
from retail_kernel.testing.waiting import eventually
from retail_storefront import PASSWORD, Storefront

SCREENSHOTS = Path(__file__).resolve().parents[2] / ".retail" / "console-screenshots"


def png(width: int = 8, height: int = 8) -> bytes:
    """A small, real PNG (the Product service checks the content, not the name)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x2a\x6f\xbf" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"".join(
        [b"\x89PNG\r\n\x1a\n", chunk(b"IHDR", header), chunk(b"IDAT", zlib.compress(rows)),
         chunk(b"IEND", b"")]
    )  # fmt: skip


def nav(page: Page, section: str) -> None:
    """Go to a section through the console's navigation."""
    sections = page.get_by_role("navigation", name="Sections")
    sections.get_by_role("link", name=section, exact=True).click()


@dataclass
class Console:
    """The browser, the platform's gateway, and the people of the shop."""

    browser: Browser
    gateway: str
    shop: Storefront
    admin: dict[str, str]
    errors: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{self.gateway}/console"

    def session(self, username: str) -> tuple[BrowserContext, Page]:
        """A browser of its own, signed in as ``username`` (what an earlier one logged is
        that test's failure, not this one's)."""
        self.errors.clear()
        context = self.browser.new_context(base_url=self.gateway)
        page = context.new_page()
        page.on(
            "console",
            lambda message: (
                self.errors.append(f"{page.url}: {message.text}")
                if message.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))
        self.sign_in(page, username)
        return context, page

    def sign_in(self, page: Page, username: str) -> None:
        page.goto("/console")
        page.get_by_label("Username or email").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()

    def shot(self, page: Page, name: str) -> None:
        """The page as it is now, saved; and no error logged on it."""
        page.wait_for_load_state("load")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
        assert not self.errors, self.errors


@pytest.fixture(scope="module")
def console(platform: Platform) -> Iterator[Console]:
    platform.create_admin("root")
    gateway = platform.url("gateway")
    with httpx.Client(base_url=gateway, timeout=30) as http, sync_playwright() as playwright:
        shop = Storefront(http)
        admin = shop.log_in("root")
        for username, role in (("stella", "staff"), ("carol", "customer")):
            shop.sign_up(username)
            if role != "customer":
                found = http.get("/api/v1/users", params={"q": username}, headers=admin).json()
                user_id = found["items"][0]["id"]
                changed = http.put(
                    f"/api/v1/users/{user_id}/roles", json={"roles": [role]}, headers=admin
                )
                assert changed.status_code == 200, changed.text
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            yield Console(browser, gateway, shop, admin)
        finally:
            browser.close()


def test_staff_add_a_product_with_a_picture_stock_it_and_find_it_in_the_catalog(
    console: Console, tmp_path: Path
) -> None:
    context, page = console.session("stella")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    console.shot(page, "overview-staff")

    nav(page, "Catalog")
    page.get_by_role("link", name="New product").click()
    console.shot(page, "product-new")
    page.get_by_label("SKU").fill("LAMP-1")
    page.get_by_label("Name").fill("Desk lamp")
    page.get_by_label("Price").fill("39.90")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("status")).to_have_text("Product created")

    picture = tmp_path / "lamp.png"
    picture.write_bytes(png())
    page.get_by_label("Add a picture").set_input_files(picture)
    expect(page.get_by_alt_text("The chosen picture")).to_be_visible()  # previewed
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("status")).to_have_text("Picture added")
    expect(page.get_by_alt_text("Picture 1 of Desk lamp")).to_be_visible()
    console.shot(page, "product")

    nav(page, "Inventory")
    page.get_by_role("link", name="Warehouses").click()
    page.get_by_label("Code").fill("BER")
    page.get_by_label("Name").fill("Berlin")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("status")).to_have_text("Warehouse BER added")
    console.shot(page, "warehouses")

    nav(page, "Inventory")
    adjust = page.locator("form[action='/console/inventory/adjust']")
    adjust.get_by_label("SKU").fill("LAMP-1")
    adjust.get_by_label("Warehouse").select_option("BER")
    adjust.get_by_label("Reason").select_option("receipt")
    adjust.get_by_label("Units").fill("12")
    adjust.get_by_role("button", name="Adjust").click()
    expect(page.get_by_role("status")).to_have_text("LAMP-1: receipt of 12")
    level = page.get_by_role("row").filter(has_text="LAMP-1")
    expect(level).to_contain_text("12")
    console.shot(page, "inventory")
    page.get_by_role("link", name="Movements ledger").click()
    expect(page.get_by_role("row").filter(has_text="receipt")).to_contain_text("+12")
    console.shot(page, "movements")

    nav(page, "Catalog")
    expect(page.get_by_role("row").filter(has_text="LAMP-1")).to_contain_text("39.90 EUR")
    console.shot(page, "catalog")
    context.close()


def test_staff_grow_the_category_tree_and_filter_the_catalog_by_it(console: Console) -> None:
    context, page = console.session("stella")
    nav(page, "Catalog")
    page.get_by_role("link", name="Categories").click()
    page.get_by_label("Name").fill("Home")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("status")).to_have_text("Category added")
    page.get_by_label("Name").fill("Lighting")
    page.get_by_label("Inside").select_option(label="Home")
    page.get_by_role("button", name="Add").click()
    expect(page.locator("ul.tree li.depth-1")).to_have_text("Lighting")
    console.shot(page, "categories")
    nav(page, "Catalog")
    page.get_by_role("link", name="New product").click()
    page.get_by_label("SKU").fill("BULB-1")
    page.get_by_label("Name").fill("Bulb")
    page.get_by_label("Price").fill("3.20")
    page.get_by_label("Categories").select_option(label="— Lighting")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("status")).to_have_text("Product created")
    nav(page, "Catalog")
    page.get_by_label("Category").select_option(label="— Lighting")
    page.get_by_role("button", name="Show").click()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("BULB-1")
    console.shot(page, "catalog-by-category")
    context.close()


def test_a_stale_edit_shows_the_conflict_instead_of_overwriting(console: Console) -> None:
    product = console.shop.stock(console.shop.log_in("stella"), "KETTLE-1", 1, warehouse="W1")
    context, page = console.session("stella")
    page.goto(f"/console/products/{product}")
    other = context.new_page()  # a second tab on the same product
    other.goto(page.url)
    page.get_by_label("Name").fill("Kettle, steel")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Product saved")
    console.shot(page, "product-saved")
    other.get_by_label("Price").fill("29.90")
    other.get_by_role("button", name="Save").click()
    expect(other.get_by_role("alert")).to_contain_text("Someone changed this product")
    expect(other.get_by_label("Name")).to_have_value("Kettle, steel")
    expect(other.get_by_label("Price")).to_have_value("12.50")  # not overwritten
    other.screenshot(path=SCREENSHOTS / "product-conflict.png", full_page=True)
    stored = console.shop.http.get(f"/api/v1/products/{product}").json()
    assert (stored["name"], stored["price"]["amount"]) == ("Kettle, steel", 1250)
    context.close()


def test_an_order_shows_its_saga_and_a_declined_card_shows_the_compensation(
    console: Console,
) -> None:
    shop = console.shop
    staff = shop.log_in("stella")
    product = shop.stock(staff, "MUG-9", 5, warehouse="W1")
    carol = shop.log_in("carol")
    confirmed = shop.order(carol, product)
    declined = shop.order(carol, product, card="tok_decline")
    assert shop.final(carol, confirmed)["status"] == "CONFIRMED"
    assert shop.final(carol, declined)["status"] == "REJECTED"
    number = shop.http.get(f"/api/v1/orders/{confirmed}", headers=carol).json()["number"]

    context, page = console.session("stella")
    nav(page, "Orders")
    page.get_by_label("Status").select_option("CONFIRMED")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("link", name=number).click()
    saga = page.locator("svg.saga")
    expect(saga).to_be_visible()
    expect(saga.locator("g.mark.ok")).to_have_count(4)
    for step in ("reserve stock", "authorize payment", "commit stock", "capture payment"):
        expect(saga).to_contain_text(step)
    expect(page.locator("h1")).to_contain_text("CONFIRMED")
    console.shot(page, "order-confirmed")

    page.goto(f"/console/orders/{declined}")
    expect(page.locator("h1")).to_contain_text("REJECTED")
    expect(page.locator("g.mark.failed")).to_have_count(1)  # the declined authorization
    compensation = page.locator("g.mark.compensation")
    expect(compensation).to_have_count(1)
    expect(compensation).to_have_class("mark ok compensation")
    expect(page.locator("ol.steps")).to_contain_text("release stock (compensation)")
    console.shot(page, "order-declined")
    nav(page, "Orders")
    page.get_by_role("link", name="Waiting for an operator").click()
    expect(page.get_by_role("cell", name="No saga is waiting.")).to_be_visible()
    console.shot(page, "attention")
    context.close()


def _poison_record(platform: Platform) -> None:
    """A record the Notification service cannot read: it dead-letters it."""

    async def send() -> None:
        bootstrap = platform.state()["broker"]["bootstrap"]
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await producer.start()
        try:
            await producer.send_and_wait(
                "retail.notification.requests", b"not an event", key=b"poison"
            )
        finally:
            await producer.stop()

    # A thread of its own: Playwright's sync API keeps an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, send()).result()


def test_an_admin_redrives_a_dead_letter(console: Console, platform: Platform) -> None:
    _poison_record(platform)
    shop = console.shop

    def dead_letters() -> list[dict[str, object]] | None:
        found = shop.http.get("/api/v1/notifications/dead-letters", headers=console.admin)
        items: list[dict[str, object]] = found.json()["items"]
        return items or None

    [dead] = eventually(dead_letters, "the poison record dead-lettered", timeout=60)
    context, page = console.session("root")
    expect(page.get_by_role("navigation").get_by_role("link", name="Users")).to_be_visible()
    console.shot(page, "overview-admin")
    nav(page, "Notifications")
    console.shot(page, "notifications")
    page.get_by_role("link", name="Dead letters").click()
    console.shot(page, "dead-letters")
    page.get_by_role("button", name="Redrive").first.click()
    expect(page.get_by_role("status")).to_have_text("Redriven")
    redriven = shop.http.get(
        "/api/v1/notifications/dead-letters", params={"state": "all"}, headers=console.admin
    ).json()["items"]
    assert any(item["id"] == dead["id"] and item["redrives"] == 1 for item in redriven)
    context.close()


def test_a_broken_template_shows_its_error_and_saves_nothing(console: Console) -> None:
    context, page = console.session("root")
    nav(page, "Notifications")
    page.get_by_role("link", name="Templates").click()
    console.shot(page, "templates")
    page.get_by_role("link", name="order_confirmed").first.click()
    channel = page.locator("input[name=channel]").input_value()
    body = page.get_by_label("Body (Jinja2)")
    kept = body.input_value()
    expect(page.get_by_role("heading", name="Preview")).to_be_visible()
    expect(page.locator("pre.preview-text")).not_to_contain_text("{{")
    console.shot(page, "template")
    body.fill("Order {{ order.number ")  # never closed
    page.get_by_role("button", name="Check and save").click()
    expect(page.locator("#body-error")).to_be_visible()
    expect(body).to_have_attribute("aria-invalid", "true")
    console.errors.clear()  # the 422 of the refused save is the page's answer, not a fault
    console.shot(page, "template-refused")
    stored = console.shop.http.get(
        "/api/v1/notifications/templates/order_confirmed",
        params={"channel": channel},
        headers=console.admin,
    ).json()
    assert stored["body"] == kept, "a broken template saved nothing"
    context.close()


def test_an_admin_gives_a_customer_the_staff_role(console: Console) -> None:
    console.shop.sign_up("fred")
    context, page = console.session("root")
    nav(page, "Users")
    page.get_by_label("Search").fill("fred")
    page.get_by_role("button", name="Show").click()
    row = page.get_by_role("row").filter(has_text="fred@example.com")
    row.get_by_label("staff").check()
    row.get_by_role("button", name="Save roles").click()
    expect(page.get_by_role("status")).to_have_text("Roles changed")
    console.shot(page, "users")
    found = console.shop.http.get(
        "/api/v1/users", params={"q": "fred"}, headers=console.admin
    ).json()
    assert set(found["items"][0]["roles"]) == {"customer", "staff"}
    context.close()


def test_an_admin_follows_one_request_through_the_audit_log(console: Console) -> None:
    shop = console.shop
    correlation = f"console-test-{uuid.uuid4()}"
    product = shop.stock(shop.log_in("stella"), "PEN-1", 3, warehouse="W1")
    customer = shop.sign_up("dora")
    placed = shop.http.post(
        "/api/v1/orders",
        json={
            "lines": [{"product_id": product, "qty": 1}],
            "shipping_address": {"name": "Dora", "line1": "2 Main St", "city": "Berlin",
                                 "postal_code": "10115", "country": "DE"},
            "payment_method": {"provider": "fake", "token": "tok_visa"},
        },
        headers={**customer, "Idempotency-Key": str(uuid.uuid4()), "X-Correlation-ID": correlation},
    )  # fmt: skip
    assert placed.status_code == 202, placed.text
    order = shop.final(customer, placed.json()["id"])
    context, page = console.session("root")
    nav(page, "Audit")
    page.get_by_label("Correlation id").fill(correlation)
    page.get_by_role("button", name="Search").click()
    timeline = page.locator("ol.audit-timeline")
    expect(timeline).to_contain_text("retail.order.created.v1")
    console.shot(page, "audit")
    nav(page, "Payments")
    console.shot(page, "payments")
    page.goto(f"/console/orders/{order['id']}")
    page.get_by_role("link", name="fake").click()  # the order's payment, for admins
    expect(page.locator("h1")).to_contain_text("CAPTURED")
    console.shot(page, "payment")
    context.close()


def test_who_may_use_the_console_and_how_its_forms_are_guarded(console: Console) -> None:
    console.shop.sign_up("erin")  # a customer
    context, page = console.session("erin")
    expect(page.get_by_role("alert")).to_contain_text("for staff and admins")
    console.errors.clear()  # the refusal's 403 is the answer under test
    console.shot(page, "customer-refused")
    assert not [c for c in context.cookies() if c["name"] == "retail_console"]
    context.close()

    context, page = console.session("stella")
    expect(page.get_by_role("navigation").get_by_role("link", name="Users")).to_have_count(0)
    response = page.goto("/console/users")
    assert response is not None and response.status == 403
    console.errors.clear()  # the 403 is the answer under test
    console.shot(page, "staff-refused-users")
    page.goto("/console")
    [cookie] = [c for c in context.cookies() if c["name"] == "retail_console"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/console"
    forged = page.request.post(
        "/console/warehouses", form={"csrf_token": "forged", "code": "X1", "name": "X"}
    )
    missing = page.request.post("/console/warehouses", form={"code": "X2", "name": "X"})
    assert (forged.status, missing.status) == (403, 403)
    warehouses = console.shop.http.get(
        "/api/v1/inventory/warehouses", headers=console.shop.log_in("stella")
    ).json()
    assert not {"X1", "X2"} & {w["code"] for w in warehouses}
    headers = page.request.get("/console").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("Signed out")
    assert not [c for c in context.cookies() if c["name"] == "retail_console"]
    context.close()
