"""Make docs/report.png: the offline demo (three rounds), its report, a headless Chromium screenshot.

Run from the repository root: .venv/bin/python docs/report_screenshot.py [OUT.png]
Needs Debian's chromium (/usr/bin/chromium) and playwright from the `test` extra.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


def main(out: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix="claimwatch-shot-"))
    # Prefect offline in a throwaway home, before anything imports it.
    os.environ.update(PREFECT_HOME=str(work / "prefect"), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    from playwright.sync_api import sync_playwright

    from claimwatch.flows.app.demo import run_demo
    from claimwatch.flows.report import report
    from claimwatch.storage.db import engine_for

    db_url = f"sqlite:///{work / 'demo.db'}"
    run_demo(db_url, lambda _line: None)
    page_path = report.write(engine_for(db_url), work / "report")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 1900}, device_scale_factor=1)
        page.goto(page_path.as_uri())
        page.screenshot(path=str(out))
        browser.close()
    print(out)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("report.png"))
