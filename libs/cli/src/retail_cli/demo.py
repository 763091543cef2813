"""``retail demo``: a shop to look at, on a running local platform.

People (an admin, a staff member, customers), a category tree, a thousand products with
generated pictures, stock in three warehouses (some of it close to its low-stock threshold)
and a stream of orders: most confirmed, some declined, some cancelled after confirmation, one
parked for an operator (its payment provider unreachable: the fake's ``tok_outage``).

Everything but the accounts goes through the services' public APIs with the people's own
tokens, minted with the local signing key; straight to each service, as the gateway's rate
limits are for the outside world. Running it again adds nothing twice: people are found by
username, categories by name, products by sku, stock receipts by their level, and orders by
the ids kept in ``<home>/demo.json`` (and their Idempotency-Keys).
"""

import asyncio
import io
import json
import random
from collections import Counter
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
from PIL import Image, ImageDraw
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from retail_kernel.local import Home, LocalIdentity

PASSWORD = "retail demo password"  # noqa: S105 - printed for the visitor: it is a demo
ADMIN = ("demo-admin", "Morgan Admin", "admin")
STAFF = ("demo-staff", "Sam Staff", "staff")
CUSTOMERS = [
    ("demo-ada", "Ada Lovelace"),
    ("demo-grace", "Grace Hopper"),
    ("demo-alan", "Alan Turing"),
    ("demo-barbara", "Barbara Liskov"),
    ("demo-edsger", "Edsger Dijkstra"),
    ("demo-margaret", "Margaret Hamilton"),
    ("demo-donald", "Donald Knuth"),
    ("demo-radia", "Radia Perlman"),
]
TREE = {
    "Clothing": {
        "T-shirts": ["T-shirt", "Tank top", "Polo shirt"],
        "Jumpers": ["Jumper", "Hoodie", "Cardigan"],
        "Shoes": ["Sneaker", "Boot", "Sandal"],
    },
    "Home": {
        "Kitchen": ["Mug", "Teapot", "Bowl"],
        "Lighting": ["Lamp", "Lantern", "Candle"],
        "Textiles": ["Cushion", "Throw", "Towel"],
    },
    "Outdoor": {
        "Camping": ["Tent", "Sleeping bag", "Stove"],
        "Cycling": ["Helmet", "Bike light", "Pump"],
        "Garden": ["Planter", "Watering can", "Trowel"],
    },
    "Electronics": {
        "Audio": ["Speaker", "Headphones", "Earbuds"],
        "Cables": ["USB-C cable", "HDMI cable", "Adapter"],
        "Chargers": ["Charger", "Power bank", "Dock"],
    },
}
COLOURS = {
    "Red": (196, 62, 58),
    "Blue": (52, 92, 196),
    "Green": (58, 148, 92),
    "Black": (38, 38, 42),
    "Sand": (214, 196, 160),
    "Yellow": (232, 196, 58),
    "Grey": (138, 140, 146),
    "Orange": (228, 128, 48),
}
STYLES = ["Classic", "Everyday", "Premium", "Organic", "Travel", "Compact", "Heritage", "Studio"]
WAREHOUSES = {"BER-1": "Berlin", "AMS-1": "Amsterdam", "PAR-1": "Paris"}
LOW_THRESHOLD = 5
FINAL = frozenset({"CONFIRMED", "REJECTED", "CANCELLED"})
CONCURRENCY = 8


@dataclass(frozen=True)
class ProductPlan:
    sku: str
    name: str
    category: tuple[str, str]
    amount: int
    colour: str
    stock: dict[str, int]
    low: bool  # stocked just above its threshold, in one warehouse


@dataclass(frozen=True)
class OrderPlan:
    number: int
    customer: str
    lines: dict[str, int]  # sku: qty
    card: str
    cancel: bool


def product_plans(count: int) -> list[ProductPlan]:
    """``count`` products, the same ones every time: names from the tree, colours and
    styles; a price; stock in two or three warehouses, or a little in one."""
    leaves = [(top, leaf) for top, children in TREE.items() for leaf in children]
    colours = list(COLOURS)
    plans = []
    for n in range(count):
        top, leaf = leaves[n % len(leaves)]
        noun = TREE[top][leaf][(n // len(leaves)) % 3]
        colour = colours[(n // (len(leaves) * 3)) % len(colours)]
        style = STYLES[(n // (len(leaves) * 3 * len(colours))) % len(STYLES)]
        low = n % 50 == 7
        codes = list(WAREHOUSES)
        stock = (
            {"BER-1": LOW_THRESHOLD + 1}
            if low
            else {code: 20 + (n * 13 + i * 7) % 80 for i, code in enumerate(codes) if i != n % 4}
        )
        plans.append(
            ProductPlan(
                sku=f"DEMO-{n + 1:04d}",
                name=f"{style} {colour} {noun}",
                category=(top, leaf),
                amount=999 + (n * 37 % 50) * 100,
                colour=colour,
                stock=stock,
                low=low,
            )
        )
    return plans


def order_plans(count: int, products: list[ProductPlan]) -> list[OrderPlan]:
    """The first order meets an unreachable payment provider; about one in eight is declined,
    one in ten cancelled after it was confirmed; some buy the last units of a low item."""
    chooser = random.Random(42)  # noqa: S311 - a demo's shopping, not a secret
    stocked = [plan for plan in products[:300] if not plan.low]
    low = [plan for plan in products if plan.low]
    plans = []
    for n in range(count):
        picked = chooser.sample(stocked, chooser.randint(1, 3))
        lines = {plan.sku: chooser.randint(1, 2) for plan in picked}
        if n % 6 == 2 and low:
            lines[low[(n // 6) % len(low)].sku] = 2
        card = "tok_outage" if n == 0 else "tok_decline" if n % 8 == 3 else "tok_visa"
        plans.append(
            OrderPlan(
                number=n,
                customer=CUSTOMERS[n % len(CUSTOMERS)][0],
                lines=lines,
                card=card,
                cancel=n % 10 == 5,
            )
        )
    return plans


def picture(plan: ProductPlan) -> bytes:
    """A product shot, drawn: the colour on a soft ground, a shape for its department."""
    size = 480
    image = Image.new("RGB", (size, size), (246, 244, 240))
    draw = ImageDraw.Draw(image)
    colour = COLOURS[plan.colour]
    box = (size * 0.22, size * 0.22, size * 0.78, size * 0.78)
    shape = list(TREE).index(plan.category[0])
    if shape == 0:
        draw.rounded_rectangle(box, radius=48, fill=colour)
    elif shape == 1:
        draw.ellipse(box, fill=colour)
    elif shape == 2:
        draw.polygon(
            [(size / 2, size * 0.18), (size * 0.82, size * 0.8), (size * 0.18, size * 0.8)],
            fill=colour,
        )
    else:
        draw.rectangle(box, fill=colour)
    draw.text((24, size - 40), f"{plan.sku}  {plan.name}", fill=(60, 60, 60))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


@dataclass
class Outcome:
    people: list[tuple[str, str]] = field(default_factory=list)  # username, role
    orders: Counter[str] = field(default_factory=Counter)
    parked: str | None = None
    low_levels: int = 0
    products: int = 0


class Demo:
    def __init__(
        self,
        identity: LocalIdentity,
        home: Home,
        urls: dict[str, str],
        *,
        products: int,
        orders: int,
    ) -> None:
        self.identity = identity
        self.home = home
        self.urls = urls
        self.products = product_plans(products)
        self.orders = order_plans(orders, self.products)
        self.http = httpx.AsyncClient(timeout=30)
        self.tokens: dict[str, str] = {}
        self.outcome = Outcome()

    async def run(self, progress: Progress, wait_seconds: float) -> Outcome:
        try:
            await self.people(progress)
            leaves = await self.categories(progress)
            ids = await self.catalog(progress, leaves)
            await self.stock(progress)
            await self.order_stream(progress, ids, wait_seconds)
            self.outcome.low_levels = await self.low_levels()
            self.outcome.products = len(ids)
            return self.outcome
        finally:
            await self.http.aclose()

    # People ----------------------------------------------------------------------------

    async def people(self, progress: Progress) -> None:
        everyone = [ADMIN, STAFF, *((name, full, "customer") for name, full in CUSTOMERS)]
        task = progress.add_task("people", total=len(everyone))
        for username, full_name, role in everyone:
            await self.identity.ensure_user(
                self.home,
                username=username,
                email=f"{username}@example.com",
                full_name=full_name,
                password=PASSWORD,
                roles=[role],
                tenant="default",
            )
            self.tokens[username] = await self.identity.token(self.home, login=username)
            self.outcome.people.append((username, role))
            progress.advance(task)

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    async def call(
        self, service: str, method: str, path: str, who: str, **kwargs: Any
    ) -> httpx.Response:
        headers = {**self.auth(who), **kwargs.pop("headers", {})}
        response = await self.http.request(
            method, self.urls[service] + path, headers=headers, **kwargs
        )
        if response.status_code >= 400 and response.status_code != 409:
            raise DemoFailed(f"{method} {path}: {response.status_code} {response.text}")
        return response

    async def pages(self, service: str, path: str, who: str) -> list[dict[str, Any]]:
        """Every item of a paged list."""
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            page = (await self.call(service, "GET", path, who, params=params)).json()
            items += page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return items

    # Catalog ---------------------------------------------------------------------------

    async def categories(self, progress: Progress) -> dict[tuple[str, str], str]:
        staff = STAFF[0]
        task = progress.add_task("categories", total=sum(1 + len(c) for c in TREE.values()))
        tree = (await self.call("product", "GET", "/api/v1/categories", staff)).json()["items"]
        found = {node["name"]: node for node in tree}
        leaves: dict[tuple[str, str], str] = {}
        for top, children in TREE.items():
            node = found.get(top) or await self._category(top, None)
            progress.advance(task)
            existing = {child["name"]: child["id"] for child in node.get("children", [])}
            for leaf in children:
                leaves[(top, leaf)] = (
                    existing.get(leaf) or (await self._category(leaf, node["id"]))["id"]
                )
                progress.advance(task)
        return leaves

    async def _category(self, name: str, parent: str | None) -> dict[str, Any]:
        body = {"name": name, "parent_id": parent}
        created: dict[str, Any] = (
            await self.call("product", "POST", "/api/v1/categories", STAFF[0], json=body)
        ).json()
        return created

    async def catalog(
        self, progress: Progress, leaves: dict[tuple[str, str], str]
    ) -> dict[str, str]:
        """Every product with its picture; returns their ids by sku."""
        existing = {
            item["sku"]: item
            for item in await self.pages("product", "/api/v1/products", STAFF[0])
            if item["sku"].startswith("DEMO-")
        }
        task = progress.add_task("products and pictures", total=len(self.products))
        ids: dict[str, str] = {}

        async def one(plan: ProductPlan) -> None:
            product = existing.get(plan.sku)
            if product is None:
                body = {
                    "sku": plan.sku,
                    "name": plan.name,
                    "description": f"{plan.name}, from our {plan.category[1].lower()} range.",
                    "price": {"amount": plan.amount, "currency": "EUR"},
                    "category_ids": [leaves[plan.category]],
                    "attributes": {"colour": plan.colour},
                }
                product = (
                    await self.call("product", "POST", "/api/v1/products", STAFF[0], json=body)
                ).json()
            ids[plan.sku] = product["id"]
            if not product.get("pictures"):
                files = {"file": (f"{plan.sku}.jpg", picture(plan), "image/jpeg")}
                path = f"/api/v1/products/{product['id']}/pictures"
                await self.call("product", "POST", path, STAFF[0], files=files)
            progress.advance(task)

        await _at_most(CONCURRENCY, (one(plan) for plan in self.products))
        return ids

    # Stock -----------------------------------------------------------------------------

    async def stock(self, progress: Progress) -> None:
        staff = STAFF[0]
        task = progress.add_task("warehouses and stock", total=len(self.products) + 1)
        path = "/api/v1/inventory/warehouses"
        listed = (await self.call("inventory", "GET", path, staff)).json()
        have = {warehouse["code"] for warehouse in listed}
        for code, name in WAREHOUSES.items():
            if code not in have:
                body = {"code": code, "name": name}
                await self.call("inventory", "POST", path, staff, json=body)
        progress.advance(task)
        levels = await self.pages("inventory", "/api/v1/inventory/levels", staff)
        received = {(level["sku"], level["warehouse"]) for level in levels}

        async def one(plan: ProductPlan) -> None:
            for code, qty in plan.stock.items():
                if (plan.sku, code) in received:
                    continue
                body = {"sku": plan.sku, "warehouse": code, "delta": qty, "reason": "receipt"}
                key = {"Idempotency-Key": f"demo-receipt-{plan.sku}-{code}"}
                await self.call(
                    "inventory", "POST", "/api/v1/inventory/adjust", staff, json=body, headers=key
                )
            if plan.low:
                body = {"sku": plan.sku, "warehouse": "BER-1", "threshold": LOW_THRESHOLD}
                await self.call(
                    "inventory", "PUT", "/api/v1/inventory/thresholds", staff, json=body
                )
            progress.advance(task)

        await _at_most(CONCURRENCY, (one(plan) for plan in self.products))

    async def low_levels(self) -> int:
        levels = await self.pages("inventory", "/api/v1/inventory/levels", STAFF[0])
        return sum(
            1
            for level in levels
            if level["low_stock_threshold"] is not None
            and level["available"] <= level["low_stock_threshold"]
        )

    # Orders ----------------------------------------------------------------------------

    async def order_stream(
        self, progress: Progress, ids: dict[str, str], wait_seconds: float
    ) -> None:
        task = progress.add_task("orders", total=len(self.orders))
        placed = self._placed()

        async def one(plan: OrderPlan) -> None:
            order_id = placed.get(str(plan.number))
            if order_id is None or not await self._exists(order_id):
                order_id = await self._place(plan, ids)
                placed[str(plan.number)] = order_id
                self._keep(placed)
            order = await self._settled(order_id, plan, wait_seconds)
            self.outcome.orders[_state(order)] += 1
            if order.get("attention"):
                self.outcome.parked = order["number"]
            progress.advance(task)

        # In order, four at a time: the unreachable provider's first, as its saga takes
        # longest to give up.
        await _at_most(4, (one(plan) for plan in self.orders))

    def _placed(self) -> dict[str, str]:
        path = self.home.root / "demo.json"
        kept: dict[str, str] = json.loads(path.read_text())["orders"] if path.exists() else {}
        return kept

    def _keep(self, placed: dict[str, str]) -> None:
        (self.home.root / "demo.json").write_text(json.dumps({"orders": placed}, indent=2))

    async def _exists(self, order_id: str) -> bool:
        response = await self.http.get(
            f"{self.urls['order']}/api/v1/orders/{order_id}", headers=self.auth(STAFF[0])
        )
        return response.status_code == 200

    async def _place(self, plan: OrderPlan, ids: dict[str, str]) -> str:
        body = {
            "lines": [{"product_id": ids[sku], "qty": qty} for sku, qty in plan.lines.items()],
            "shipping_address": {
                "name": dict(CUSTOMERS)[plan.customer],
                "line1": f"{10 + plan.number} Market Street",
                "city": "Berlin",
                "postal_code": "10115",
                "country": "DE",
            },
            "payment_method": {"provider": "fake", "token": plan.card},
        }
        key = {"Idempotency-Key": f"demo-order-{plan.number}"}
        response = await self.call(
            "order", "POST", "/api/v1/orders", plan.customer, json=body, headers=key
        )
        order_id: str = response.json()["id"]
        return order_id

    async def _settled(self, order_id: str, plan: OrderPlan, wait_seconds: float) -> dict[str, Any]:
        """The order once its saga is done (or parked); cancelled first when planned."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        while True:
            order: dict[str, Any] = (
                await self.call("order", "GET", f"/api/v1/orders/{order_id}", STAFF[0])
            ).json()
            if plan.cancel and order["status"] == "CONFIRMED":
                path = f"/api/v1/orders/{order_id}/cancel"
                await self.call("order", "POST", path, plan.customer)
            elif order["status"] in FINAL or order.get("attention") or loop.time() > deadline:
                return order
            await asyncio.sleep(0.3)


class DemoFailed(RuntimeError):
    """A service refused what the demo asked (the message says which call)."""


def _state(order: dict[str, Any]) -> str:
    if order.get("attention"):
        return "parked for an operator"
    if order["status"] not in FINAL:
        return f"{order['status']} (still running)"
    return str(order["status"])


async def _at_most(limit: int, work: Iterable[Awaitable[None]]) -> None:
    gate = asyncio.Semaphore(limit)

    async def gated(job: Awaitable[None]) -> None:
        async with gate:
            await job

    await asyncio.gather(*(gated(job) for job in work))


def run_demo(
    identity: LocalIdentity,
    home: Home,
    urls: dict[str, str],
    console: Console,
    *,
    products: int,
    orders: int,
    wait_seconds: float,
) -> Outcome:
    progress = Progress(
        TextColumn("{task.description:<24}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    with progress:
        demo = Demo(identity, home, urls, products=products, orders=orders)
        outcome = asyncio.run(demo.run(progress, wait_seconds))
    report(console, outcome, urls)
    return outcome


def report(console: Console, outcome: Outcome, urls: dict[str, str]) -> None:
    people = Table("username", "role", "password", title="who to sign in as")
    for username, role in outcome.people:
        people.add_row(username, role, PASSWORD)
    console.print(people)
    orders = Table("orders", "count")
    for state, count in sorted(outcome.orders.items()):
        orders.add_row(state, str(count))
    console.print(orders)
    console.print(
        f"{outcome.products} products with pictures; {outcome.low_levels} stock levels at or"
        " below their low-stock threshold."
    )
    if outcome.parked:
        console.print(
            f"Order {outcome.parked} waits for an operator: GET /api/v1/orders/attention,"
            " then …/saga/retry or …/saga/force-compensate."
        )
    gateway = urls.get("gateway", "")
    console.print(f"API docs: {gateway}/docs · a token for scripts: retail token --user {STAFF[0]}")
