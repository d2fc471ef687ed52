"""What-if page benchmark: slider release -> updated numbers, in a real browser.

Usage::

    python benchmarks/bench_explore.py                          # 2,000 replicates, 2 workers, 5 moves
    python benchmarks/bench_explore.py --runs 2000 --repeat 5 --screenshot docs/explorer.png

Starts ``negsim explore`` on a free port, opens the page in headless Chromium (``/usr/bin/chromium``,
driven by Playwright), waits for the first numbers (the unchanged scenario's run, kept afterwards), then
moves the first slider one step at a time with the keyboard (each key press is a released slider: one
new value) and measures the time from the key press until the edited scenario's probabilities on the
page change: writing and validating the variant, sampling its parameters, running its replicates on the
page's workers, comparing, and the page update. Prints and saves the figures as JSON under
``benchmarks/results/``; ``--screenshot`` saves the page once its charts are drawn.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.test_explore import CHROMIUM, CHROMIUM_ARGS  # noqa: E402  (one list of browser flags)

CELLS = "[...document.querySelectorAll('#outcomes td.edited')].map(e => e.innerText).join('|')"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5, help="slider moves to time")
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline.yaml"))
    ap.add_argument("--screenshot", default=None, metavar="PNG")
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    from sim.explorer.server import free_port

    port = free_port()
    load_start = os.getloadavg()
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "sim", "explore", args.scenario, "--port", str(port),
                             "--runs", str(args.runs), "--workers", str(args.workers)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline()
        assert f":{port}/" in line, line
        served = time.perf_counter() - t0
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            t1 = time.perf_counter()
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("#outcomes td.edited", timeout=300_000)
            first = time.perf_counter() - t1
            slider = page.get_by_role("slider").first
            times = []
            for _ in range(args.repeat):
                before = page.evaluate(f"() => {CELLS}")
                slider.focus()
                start = time.perf_counter()
                page.keyboard.press("ArrowRight")
                page.wait_for_function(f"b => {CELLS} !== b", arg=before, timeout=300_000)
                times.append(time.perf_counter() - start)
                print(f"slider release -> updated numbers: {times[-1]:.2f} s", flush=True)
            if args.screenshot:
                # the charts of the last run (drawn after its numbers), not those of the run before
                page.wait_for_timeout(1000)
                charts = "document.querySelectorAll('.negsim-chart img, img.negsim-chart').length"
                drawing = "document.body.innerText.includes('drawing the charts')"
                page.wait_for_function(f"() => {charts} >= 4 && !{drawing}", timeout=120_000)
                page.set_viewport_size({"width": 1400, "height": 1500})
                page.wait_for_timeout(500)
                page.screenshot(path=args.screenshot, full_page=False)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    result = {
        "benchmark": "explore_slider", "runs": args.runs, "workers": args.workers, "repeat": args.repeat,
        "server_up_s": round(served, 2), "first_numbers_s": round(first, 2),
        "slider_to_numbers_s": [round(t, 2) for t in times],
        "median_s": round(statistics.median(times), 2), "min_s": round(min(times), 2),
        "max_s": round(max(times), 2), "loadavg_start": [round(x, 2) for x in load_start],
        "loadavg_end": [round(x, 2) for x in os.getloadavg()], "nproc": os.cpu_count(),
        "platform": platform.platform(), "python": platform.python_version(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(json.dumps(result, indent=1))
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"explore-{datetime.now(UTC):%Y%m%d-%H%M%S}.json").write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
