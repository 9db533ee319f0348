"""The observer page in a real headless Chromium, driven by Playwright.

Starts the `observer` example on 127.0.0.1:0 (it prints its address on its
first line), opens the page, and checks what a person would look at:

1. the tree shows the root supervisor and its children;
2. the stuck actor's mailbox depth rises, and it shows the alarm it
   published;
3. the crashing child's restart count rises;
4. kill is refused without the bearer token (and touches nothing);
5. kill works with the token (the stuck actor is killed, and restarted by
   its supervisor: its restart count rises and its last exit is `killed`).

Every wait is bounded. Saves a screenshot of the page. Prints one line
`browser: N passed, M failed` and exits non-zero if anything failed.

    python3 observer_page.py --example PATH --chromium PATH --screenshot PATH
"""

import argparse
import re
import subprocess
import sys
import threading
import time

from playwright.sync_api import expect, sync_playwright

TOKEN = "browser-test-token-0123456789"
WAIT_MS = 30_000
URL_LINE = re.compile(r"^observer listening on (http://127\.0\.0\.1:\d+/)$")


def start_example(binary):
    """Starts the example; returns the process and the page's URL."""
    proc = subprocess.Popen(
        [binary, "--token", TOKEN, "--run-for", "300", "--crash-every", "2",
         "--stuck-capacity", "400", "--feed-every", "100"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    first = []
    reader = threading.Thread(target=lambda: first.append(proc.stdout.readline()))
    reader.start()
    reader.join(timeout=60)
    line = first[0].strip() if first else ""
    match = URL_LINE.match(line)
    if not match:
        proc.kill()
        raise RuntimeError(f"the example did not print its address: {line!r}")
    return proc, match.group(1)


def node(page, label):
    """The tree node (its <li>) labelled `label`."""
    return page.locator(f'#tree li:has(> span.node[data-label="{label}"])')


def row(page, label):
    return page.locator(f'#processes tr.proc[data-label="{label}"]')


def number(locator, attr):
    return int(locator.get_attribute(attr, timeout=WAIT_MS))


def wait_above(page, selector, attr, floor):
    """Waits until the element's numeric attribute is above `floor`."""
    page.wait_for_function(
        """([sel, attr, floor]) => {
            const e = document.querySelector(sel);
            return e && Number(e.getAttribute(attr)) > floor;
        }""",
        arg=[selector, attr, floor], timeout=WAIT_MS)


def check_tree(page):
    app = node(page, "app")
    expect(app).to_have_count(1, timeout=WAIT_MS)
    children = app.locator(":scope > ul > li > span.node")
    expect(children).to_have_count(4, timeout=WAIT_MS)
    labels = children.evaluate_all("ns => ns.map(n => n.dataset.label)")
    assert labels == ["busy", "stuck", "crashy", "load"], labels
    load_children = node(page, "load").locator(":scope > ul > li > span.node")
    expect(load_children).to_have_count(2, timeout=WAIT_MS)
    assert load_children.evaluate_all("ns => ns.map(n => n.dataset.label)") == ["producer", "feeder"]
    busy_actors = node(page, "busy").locator(":scope > ul > li")
    expect(busy_actors).to_have_count(4, timeout=WAIT_MS)


def check_mailbox_rises(page):
    cell = '#processes tr.proc[data-label="stuck"] td.mailbox'
    page.wait_for_selector(cell, timeout=WAIT_MS)
    first = number(page.locator(cell), "data-len")
    wait_above(page, cell, "data-len", first)
    second = number(page.locator(cell), "data-len")
    assert second > first, (first, second)
    # It says what is wrong: the status it published.
    reported = row(page, "stuck").locator("td.reported")
    expect(reported).to_have_attribute("data-reported", "alarming", timeout=WAIT_MS)
    expect(reported).to_contain_text("stuck in its first job")
    # Sorted by mailbox depth, the stuck actor comes first: who is stuck?
    page.click('th[data-sort="mailbox"]')
    top = page.locator("#processes tbody tr.proc").first
    expect(top).to_have_attribute("data-label", "stuck", timeout=WAIT_MS)
    print(f"  stuck mailbox: {first} -> {second}")


def check_restarts_rise(page):
    cell = '#processes tr.proc[data-label="crashy"] td.restarts'
    page.wait_for_selector(cell, timeout=WAIT_MS)
    first = number(page.locator(cell), "data-restarts")
    wait_above(page, cell, "data-restarts", first)
    second = number(page.locator(cell), "data-restarts")
    assert second > first, (first, second)
    print(f"  crashy restarts: {first} -> {second}")


def check_kill_refused_without_token(page):
    row(page, "stuck").click()
    expect(page.locator('#detail-fields dd[data-field="name"]')).to_have_text("stuck", timeout=WAIT_MS)
    before = number(row(page, "stuck").locator("td.restarts"), "data-restarts")
    page.fill("#token", "")
    page.click("#kill")
    result = page.locator("#action-result")
    expect(result).to_have_attribute("data-status", "401", timeout=WAIT_MS)
    expect(result).to_contain_text("refused")
    page.fill("#token", "not-the-token-at-all")
    page.click("#kill")
    expect(result).to_contain_text("unauthorized", timeout=WAIT_MS)
    # Nothing happened to it: still there, not restarted.
    time_limit = time.monotonic() + 2.5
    while time.monotonic() < time_limit:  # two refreshes of the page
        assert number(row(page, "stuck").locator("td.restarts"), "data-restarts") == before
        page.wait_for_timeout(500)


def check_kill_with_token(page):
    row(page, "stuck").click()
    cell = '#processes tr.proc[data-label="stuck"] td.restarts'
    before = number(page.locator(cell), "data-restarts")
    page.fill("#token", TOKEN)
    page.click("#kill")
    result = page.locator("#action-result")
    expect(result).to_have_attribute("data-status", "200", timeout=WAIT_MS)
    expect(result).to_contain_text("kill: done")
    # Killed, then restarted in place by its supervisor.
    wait_above(page, cell, "data-restarts", before)
    expect(page.locator('#detail-fields dd[data-field="last exit"]')).to_have_text("killed", timeout=WAIT_MS)


CHECKS = [
    ("the tree shows the supervisor and its children", check_tree),
    ("the stuck actor's mailbox depth rises and it shows its alarm", check_mailbox_rises),
    ("the crashing child's restart count rises", check_restarts_rise),
    ("kill is refused without the token", check_kill_refused_without_token),
    ("kill works with the token", check_kill_with_token),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--example", required=True)
    ap.add_argument("--chromium", required=True)
    ap.add_argument("--screenshot", required=True)
    args = ap.parse_args()

    proc, url = start_example(args.example)
    passed = failed = 0
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url)
            expect(page.locator("#conn")).to_have_text("live", timeout=WAIT_MS)
            for name, check in CHECKS:
                try:
                    check(page)
                    passed += 1
                    print(f"ok: {name}")
                except Exception as e:  # noqa: BLE001 - report and go on
                    failed += 1
                    print(f"FAILED: {name}: {e}")
            if errors:
                failed += 1
                print(f"FAILED: the page raised errors: {errors}")
            # Who is stuck, in detail, for the picture.
            row(page, "stuck").click()
            page.wait_for_timeout(1200)
            page.screenshot(path=args.screenshot, full_page=True)
            print(f"screenshot: {args.screenshot}")
            browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    print(f"browser: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
