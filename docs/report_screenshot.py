"""Make docs/report.png (1400 px) and docs/report-390.png (a phone, 390 px): the offline demo
(three rounds), its report, headless Chromium screenshots. Refuses to write a phone screenshot
of a page that scrolls sideways.

Run from the repository root: .venv/bin/python docs/report_screenshot.py [OUT_DIR]
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
SHOTS = {"report.png": (1400, 1900, False), "report-390.png": (390, 844, True)}  # (w, h, full page)


def main(out_dir: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix="claimwatch-shot-"))
    # Prefect offline in a throwaway home, before anything imports it.
    os.environ.update(PREFECT_HOME=str(work / "prefect"), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    from playwright.sync_api import sync_playwright

    from claimwatch.flows.app.demo import run_demo
    from claimwatch.flows.report import publish
    from claimwatch.storage.db import engine_for

    db_url = f"sqlite:///{work / 'demo.db'}"
    run_demo(db_url, lambda _line: None)
    page_path = publish.write(engine_for(db_url), work / "report")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name, (width, height, full) in SHOTS.items():
            page = browser.new_page(viewport={"width": width, "height": height},
                                    device_scale_factor=1)
            page.goto(page_path.as_uri())
            wide = page.evaluate("document.documentElement.scrollWidth")
            if wide > width:
                raise SystemExit(f"the report is {wide}px wide at {width}px: it scrolls sideways")
            page.screenshot(path=str(out_dir / name), full_page=full)
            print(out_dir / name, f"({width}px wide, no sideways scroll)")
        browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent)
