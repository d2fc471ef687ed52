"""`negsim explore` in a real browser: Debian's Chromium, headless, driven by Playwright.

The page is served by the real command in a subprocess on a free port; the test moves a slider and sees
the numbers change, types a bad value and sees `negsim validate`'s message, saves the edits and checks
that the file validates, writes the briefing, and cancels a long run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.explorer.assumptions import read_list
from sim.explorer.server import free_port

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
#: no network, no first-run, no GPU: what a CI container allows
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.xdist_group("browser")


def _need_browser():
    missing = []
    if not Path(CHROMIUM).exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package")
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser test needs {' and '.join(missing)}")
        pytest.skip(f"needs {' and '.join(missing)}")


def negsim(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, **kw)


def start_explore(scenario: Path, port: int, *extra: str) -> subprocess.Popen:
    """Start `negsim explore` and wait until it says where the page is."""
    proc = subprocess.Popen([sys.executable, "-m", "sim", "explore", str(scenario), "--port", str(port),
                             *extra], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    assert f"http://127.0.0.1:{port}/" in line, line
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()                           # SIGTERM: handled as Ctrl-C, the page's workers stop
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def page_url(tmp_path_factory):
    _need_browser()
    folder = tmp_path_factory.mktemp("scenarios")
    for name in ("baseline.yaml", "us_disengages.yaml", "scenario.schema.json"):
        shutil.copy(ROOT / "scenarios" / name, folder / name)
    port = free_port()
    proc = start_explore(folder / "baseline.yaml", port, "--runs", "400", "--workers", "2")
    yield f"http://127.0.0.1:{port}/", folder
    stop(proc)


@pytest.fixture(scope="module")
def browser():
    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@contextlib.contextmanager
def shown_on_failure(page, where: Path):
    """On a failure, keep a screenshot and print the page's text: a browser test is hard to debug blind."""
    try:
        yield
    except Exception:
        page.screenshot(path=str(where / "failure.png"), full_page=True)
        print(f"page at failure ({where / 'failure.png'}):\n{page.inner_text('body')[:4000]}")
        raise


def idle(page) -> None:
    """Wait until no run is in progress and the charts are drawn (the page re-renders until then)."""
    busy = ("document.querySelector('.negsim-cancel') || "
            "document.body.innerText.includes('drawing the charts')")
    page.wait_for_function(f"() => !({busy})", timeout=120_000)


def edited_cells(page) -> list[str]:
    return page.locator("#outcomes td.edited").all_inner_texts()


def test_explore_help_and_bad_scenario(tmp_path):
    res = negsim("explore", "--help")
    assert res.returncode == 0 and "--port" in res.stdout and "127.0.0.1" in res.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: nowhere.yaml\n")
    res = negsim("explore", str(bad))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr == negsim("validate", str(bad)).stderr


def test_every_listed_assumption_is_in_the_baseline():
    from sim.explorer.assumptions import resolve
    from sim.scenario import load_scenario

    found, skipped = resolve(load_scenario(ROOT / "scenarios" / "baseline.yaml"), read_list())
    assert skipped == [] and len(found) == len(read_list())
    for a in found:
        assert a.min <= a.value <= a.max, a.path
        assert a.source != "no source recorded", a.path
        assert "「" not in a.source and "」" not in a.source, a.path       # shown in English only


def test_whatif_runs_are_negsim_runs_and_can_be_cancelled(tmp_path):
    import sim
    from sim.explorer.whatif import Cancelled, WhatIf

    baseline = ROOT / "scenarios" / "baseline.yaml"
    seen = []
    with WhatIf(workers=1) as w:
        quick = w.simulate(baseline, runs=60, seed=4, keep=True, progress=lambda d, n: seen.append((d, n)))
        assert w.simulate(baseline, runs=60, seed=4, keep=True) is quick        # kept: not run again
        with pytest.raises(Cancelled):
            w.simulate(baseline, runs=60, seed=5, cancelled=lambda: True)
        workdir = w.workdir
    assert not workdir.exists()                                               # closed: cleaned up
    assert seen[0] == (0, seen[-1][1]) and seen[-1][0] == seen[-1][1]
    ref = sim.run(baseline, runs=60, seed=4, workers=1, out=tmp_path / "ref", quiet=True)
    assert quick.to_df().equals(ref.to_df())
    assert quick.summary == ref.summary


def test_the_page_in_a_browser(page_url, browser, tmp_path):
    url, folder = page_url
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    with shown_on_failure(page, tmp_path):
        check_the_page(page, url, folder)
    page.close()


def check_the_page(page, url: str, folder: Path) -> None:
    page.goto(url)
    page.wait_for_selector("#outcomes td.edited", timeout=120_000)
    # unchanged: the edited column is the scenario itself, the differences exactly zero
    assert edited_cells(page) == page.locator("#outcomes td.base").all_inner_texts()
    assert set(page.locator("#outcomes td.diff").all_inner_texts()) == {"+0.0 [+0.0, +0.0]"}
    before = edited_cells(page)

    # move the first slider (Russian advance) with the keyboard: a new run, other numbers
    slider = page.get_by_role("slider").first
    slider.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    page.wait_for_function("b => [...document.querySelectorAll('#outcomes td.edited')].map(e => e.innerText)"
                           ".join('|') !== b", arg="|".join(before), timeout=120_000)
    field = page.get_by_label("war.drift_per_year.median")
    assert float(field.input_value()) == pytest.approx(0.15)
    assert page.locator("#outcomes td.diff").all_inner_texts() != ["+0.0 [+0.0, +0.0]"] * 4
    idle(page)

    # a bad value in a field: the message of `negsim validate` on the variant the page wrote
    field.fill("-1")
    field.press("Enter")
    error = page.locator(".negsim-error")
    error.wait_for(timeout=60_000)
    message = error.inner_text().strip()
    written = message.split(":", 1)[0]
    assert written.endswith("whatif.yaml") and "war.drift_per_year" in message
    assert negsim("validate", written).stderr.strip() == message

    # a good value, saved as a variant next to the copied scenarios: it validates
    field.fill("0.13")
    field.press("Enter")
    page.locator(".negsim-error").wait_for(state="detached", timeout=60_000)
    idle(page)
    target = folder / "faster_front.yaml"
    save = page.get_by_label("Save the edits as")
    save.fill(str(target))
    save.press("Enter")
    page.locator(".negsim-save").click()
    page.locator(".negsim-saved").wait_for(timeout=60_000)
    assert f"saved {target}" in page.locator(".negsim-saved").inner_text()
    assert negsim("validate", str(target)).stdout.strip() == f"{target}: ok"
    text = target.read_text()
    assert "extends: baseline.yaml" in text and "median: 0.13" in text
    assert f"src: analyst assumption, {dt.date.today().isoformat()}" in text
    assert "annual_prob" not in text                   # only the edited assumption is written

    # the briefing of the edited scenario
    page.wait_for_function("() => !document.querySelector('.negsim-briefing').disabled", timeout=120_000)
    page.locator(".negsim-briefing").click()
    pdf = Path(page.locator(".negsim-pdf").inner_text(timeout=120_000))
    assert pdf.name == "briefing.pdf" and pdf.read_bytes().startswith(b"%PDF")

    # another scenario of the folder: its title, its values, no edits carried over
    idle(page)
    page.locator(".v-select").first.click()
    page.locator(".v-menu__content .v-list-item", has_text="us_disengages.yaml").click()
    page.locator("h2", has_text="US disengages").wait_for(timeout=60_000)
    aid = page.get_by_label("events.US_AID_CUTOFF.annual_prob.mean").element_handle()
    page.wait_for_function("el => el.value === '0.5'", arg=aid, timeout=60_000)    # the variant's value
    assert page.get_by_label("war.drift_per_year.median").input_value() == "0.1"  # the edit is gone


def test_a_long_run_shows_progress_and_cancels(page_url, browser, tmp_path):
    url, _ = page_url
    page = browser.new_page()
    with shown_on_failure(page, tmp_path):
        check_cancel(page, url)
    page.close()


def check_cancel(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#outcomes td.edited", timeout=120_000)
    # a mouse drag starts one run, on release: not one per position the thumb passes
    field = page.get_by_label("events.US_AID_CUTOFF.annual_prob.mean")
    thumb = page.locator(".negsim-slider").nth(1).locator(".v-slider__thumb").bounding_box()
    x, y = thumb["x"] + thumb["width"] / 2, thumb["y"] + thumb["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for dx in range(10, 110, 10):
        page.mouse.move(x + dx, y, steps=2)
    page.wait_for_timeout(300)
    assert field.input_value() == "0.15" and page.locator(".negsim-cancel").count() == 0
    page.mouse.up()
    shown = "document.body.innerText.includes('events.US_AID_CUTOFF.annual_prob.mean =')"
    page.wait_for_function(f"() => {shown}", timeout=120_000)                 # the edit's run finished
    assert float(field.input_value()) > 0.3
    cancel = page.locator(".negsim-cancel")
    cancel.wait_for(state="detached", timeout=60_000)
    runs = page.get_by_label("Replicates")
    runs.fill("20000")
    runs.press("Enter")
    page.get_by_text("runs 20,000 replicates").wait_for(timeout=60_000)
    cancel.wait_for(timeout=60_000)
    assert page.locator(".negsim-running [role=progressbar]").count() == 1
    started = time.monotonic()
    cancel.click()
    page.get_by_text("Run cancelled").wait_for(timeout=60_000)
    assert time.monotonic() - started < 30
    assert page.locator(".negsim-cancel").count() == 0
    # the table still shows the last finished run, not a partial one
    caption = page.locator("#outcomes caption").inner_text()
    assert re.search(r"\b400 replicates", caption), caption


def test_a_lever_of_the_levers_file_runs_against_the_scenario(page_url, browser, tmp_path):
    url, _ = page_url
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    with shown_on_failure(page, tmp_path):
        page.goto(url)
        page.wait_for_selector("#outcomes td.edited", timeout=120_000)
        idle(page)
        base = page.locator("#outcomes td.base").all_inner_texts()
        page.locator(".v-select").nth(1).click()  # the lever chooser, below the scenario's
        page.locator(".v-menu__content .v-list-item", has_text="us_walkaway").click()
        page.locator(".negsim-lever").wait_for(timeout=60_000)  # the lever's question is shown
        changed = ("b => [...document.querySelectorAll('#outcomes td.edited')]"
                   ".some((td, i) => td.innerText !== b[i])")
        page.wait_for_function(changed, arg=base, timeout=120_000)
        page.get_by_text("lever us_walkaway", exact=False).wait_for(timeout=60_000)  # the edits line names it
        assert page.locator("#outcomes td.base").all_inner_texts() == base  # the unchanged scenario stays
    page.close()
