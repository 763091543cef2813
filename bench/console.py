"""The operator console in Debian's chromium: how soon each page is interactive (the browser's
own navigation timing, signed in as staff, on a quiet stack of the services those pages call),
and what the console's JavaScript and CSS weigh compressed — beside the sign-in page, which
calls no service, measured in the same run."""

import asyncio
import gzip
import json
import statistics
from importlib import resources
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright

from bench.harness import RESULTS, infrastructure
from bench.orders import PASSWORD, _catalog, _env, _people
from retail_console.testing.browser import CHROMIUM_ARGS, chromium
from retail_kernel.testing.servers import served_process

VISITS = 25
BUDGET_MS = 300.0
BUDGET_BYTES = 150 * 1024
PAGES = {
    "sign-in (baseline: no service called)": "/console/login",
    "overview": "/console",
    "catalog": "/console/products",
    "inventory": "/console/inventory",
    "orders": "/console/orders",
    "warehouses": "/console/warehouses",
}


def _interactive_ms(page: Page, path: str) -> float:
    page.goto(path)
    timing: dict[str, Any] = page.evaluate(
        "() => performance.getEntriesByType('navigation')[0].toJSON()"
    )
    return float(timing["domInteractive"])


def _measure(console: str) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {name: [] for name in PAGES}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        anonymous = browser.new_context(base_url=console).new_page()
        context = browser.new_context(base_url=console)
        page = context.new_page()
        page.goto("/console/login")
        page.get_by_label("Username or email").fill("benchstaff")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/console")
        for _ in range(3):  # warm-up: connections, template compilation
            for path in PAGES.values():
                _interactive_ms(page, path)
        for _ in range(VISITS):  # pages take turns, so that drift weighs on all alike
            for name, path in PAGES.items():
                visitor = anonymous if path.endswith("/login") else page
                timings[name].append(_interactive_ms(visitor, path))
        browser.close()
    return timings


def _weights() -> dict[str, tuple[int, int]]:
    static = resources.files("retail_console") / "static"
    weights = {}
    for name in ("console.js", "console.css"):
        data = (static / name).read_bytes()
        weights[name] = (len(data), len(gzip.compress(data, compresslevel=9)))
    return weights


def _report(timings: dict[str, list[float]], weights: dict[str, tuple[int, int]]) -> str:
    baseline = statistics.median(next(iter(timings.values())))
    lines = [
        "# Operator console: time to interactive and weight",
        "",
        f"Debian's chromium (headless, driven by Playwright), signed in as staff; each page "
        f"loaded {VISITS} times after a warm-up, the pages taking turns; the User, Product, "
        "Inventory and Order services and the console each in a process of its own (one "
        "uvicorn worker), on the same 2-core machine as the browser. Time to interactive is "
        "the browser's `domInteractive` from its navigation timing (the page parsed, its "
        "deferred script about to run). Ratios are against the sign-in page, which calls no "
        f"service, measured in this same run. Goal: interactive within {BUDGET_MS:.0f} ms.",
        "",
        "| page | p50 ms | p95 ms | vs sign-in | within goal (p95) |",
        "| --- | ---: | ---: | ---: | :---: |",
    ]
    for name, values in timings.items():
        p50 = statistics.median(values)
        p95 = statistics.quantiles(values, n=20)[-1]
        within = "yes" if p95 <= BUDGET_MS else "no"
        lines.append(f"| {name} | {p50:.0f} | {p95:.0f} | {p50 / baseline:.0%} | {within} |")
    total = sum(compressed for _, compressed in weights.values())
    lines += [
        "",
        f"The console's own JavaScript and CSS, gzip -9 (goal: at most {BUDGET_BYTES // 1024} KB "
        "together; no framework, no web font):",
        "",
        "| file | bytes | compressed | share of the budget |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, (raw, compressed) in weights.items():
        lines.append(f"| {name} | {raw:,} | {compressed:,} | {compressed / BUDGET_BYTES:.1%} |")
    lines.append(f"| together | | {total:,} | {total / BUDGET_BYTES:.1%} |")
    return "\n".join(lines) + "\n"


def main(duration: float) -> str:
    del duration  # a number of visits, not a time
    with (
        infrastructure("user", "product", "inventory", "order") as infra,
        served_process(
            "retail_user.main:create_app", _env("RETAIL_USER_", infra, "user"), factory=True
        ) as users,
    ):
        jwks = f"{users}/.well-known/jwks.json"
        staff, _ = asyncio.run(_people(infra.database_url("user"), users))
        product_env = {
            **_env("RETAIL_PRODUCT_", infra, "product", jwks),
            "RETAIL_PRODUCT_MEDIA_DIR": str(Path(infra.scratch) / "media"),
        }
        order_env = {**_env("RETAIL_ORDER_", infra, "order", jwks), "RETAIL_ORDER_USER_URL": users}
        with (
            served_process("retail_product.main:create_app", product_env, factory=True) as products,
            served_process(
                "retail_inventory.main:create_app",
                _env("RETAIL_INVENTORY_", infra, "inventory", jwks),
                factory=True,
            ) as inventory,
            served_process(
                "retail_order.main:create_app",
                {**order_env, "RETAIL_ORDER_PRODUCT_URL": products},
                factory=True,
            ) as orders,
        ):
            asyncio.run(_catalog(products, staff))
            services = {"user": users, "product": products, "inventory": inventory,
                        "order": orders}  # fmt: skip
            console_env = {
                "RETAIL_CONSOLE_SERVICES": json.dumps(services),
                "RETAIL_CONSOLE_LOG_LEVEL": "WARNING",
            }
            with served_process(
                "retail_console.main:create_app", console_env, factory=True
            ) as console:
                timings = _measure(console)
    report = _report(timings, _weights())
    (RESULTS / "console.md").write_text(report)
    return report
