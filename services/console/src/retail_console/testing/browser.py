"""The browser the console's tests and benchmark drive: Debian's chromium (Playwright cannot
download one on this network), with the flags it needs here."""

import shutil

# As root: no sandbox; on a closed network: nothing that phones home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium() -> str:
    """The path of Debian's chromium, or an error that says how to get it."""
    executable = shutil.which("chromium")
    if executable is None:
        raise RuntimeError("Debian's chromium is needed (./dev installs it as root)")
    return executable
