#!/usr/bin/env python3
"""The HTML report (`check --format html`, issue 23) in a real browser: Debian's Chromium
driven by Playwright. Run by run.sh beside this file; exits 0 only when every check passed.

Checks, on a generated cohort of 200 patients and 2,000 notes (gen_cohort.py):
  - every matrix cell and summary cell agrees with `check --format jsonl` for the same notes
    (data-assertion: the union of that letter's assertions, in JSONL's spelling and order);
  - clicking a cell opens the note with that mention highlighted and focused, its details
    (assertion, deciding words) shown; `n` moves to the next mention;
  - the cohort filters ("3 of 5", a feature) and sorts;
  - no network request of any kind, no script error, no CSP violation;
  - a screenshot of a chart view, whose path is printed.
Then it times opening a 10,000-note, 1,000-patient report (printed, for BENCHMARKS.md;
not asserted: timings belong in benchmarks, not in pass/fail).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
LETTERS = "CREST"
# JSONL's assertion names in report order (src/analysis/context: Assertion::ALL).
ORDER = ["present", "negated", "possible", "historical", "hypothetical", "family"]
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 60_000

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def generate(work, patients, notes):
    cohort = work / f"cohort-{notes}.jsonl"
    with open(cohort, "w") as f:
        subprocess.run([sys.executable, str(HERE / "gen_cohort.py"), "--patients", str(patients),
                        "--notes", str(notes)], stdout=f, check=True)
    return cohort


def report(binary, cohort, out, *extra):
    with open(out, "wb") as f:
        r = subprocess.run([binary, "check", "--format", "html", "--input", "jsonl",
                            "--patient-field", "patient", "--date-field", "date", *extra, str(cohort)],
                           stdout=f, stderr=subprocess.PIPE)
    if r.returncode != 0:
        sys.exit(f"check --format html exited {r.returncode}: {r.stderr.decode(errors='replace')[:500]}")


def expected(binary, cohort):
    """Per note: (patient, {letter: 'a b'}); per patient: {letter: set}; and the findings."""
    r = subprocess.run([binary, "check", "--format", "jsonl", "--input", "jsonl", str(cohort)],
                       stdout=subprocess.PIPE, check=True)
    patients = {}
    with open(cohort) as f:
        for line in f:
            rec = json.loads(line)
            patients[rec["id"]] = rec["patient"]
    notes, by_patient, findings = {}, {}, {}
    for line in r.stdout.decode().splitlines():
        rec = json.loads(line)
        cells = {c: set() for c in LETTERS}
        for f in rec["findings"]:
            if f["crest"]:
                cells[f["crest"]].add(f["assertion"])
        pid = patients[rec["id"]]
        notes[rec["id"]] = (pid, cells)
        findings[rec["id"]] = rec["findings"]
        summary = by_patient.setdefault(pid, {c: set() for c in LETTERS})
        for c in LETTERS:
            summary[c] |= cells[c]
    return notes, by_patient, findings


def metric(cdp, name):
    return next(m["value"] for m in cdp.send("Performance.getMetrics")["metrics"] if m["name"] == name)


def spelled(s):
    return " ".join(a for a in ORDER if a in s)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--chromium", required=True)
    ap.add_argument("--artifacts", type=Path, default=HERE / "artifacts")
    ap.add_argument("--big-notes", type=int, default=10_000)
    args = ap.parse_args()
    args.artifacts.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="calcinosis-report-"))

    cohort = generate(work, 200, 2000)
    html = work / "report.html"
    report(args.bin, cohort, html)
    notes, by_patient, findings = expected(args.bin, cohort)
    url = html.as_uri()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, headless=True, args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport={"width": 1100, "height": 900})
        requests, problems = [], []
        # Every request the page makes, of any scheme, is seen here; only the report itself may
        # load. The route aborts anything else, so that a leak fails without leaving the machine.
        context.route("**/*", lambda route: route.continue_() if route.request.url == url else route.abort())
        allowed = {url}
        context.on("request", lambda req: req.url not in allowed and requests.append(req.url))
        page = context.new_page()
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("console", lambda m: m.type in ("error", "warning") and problems.append(f"console {m.type}: {m.text}"))
        page.on("websocket", lambda ws: requests.append(ws.url))
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(url, wait_until="load")

        # Matrix cells against JSONL.
        cells = page.eval_on_selector_all(
            "section.chart td[data-note]",
            "els => els.map(e => [e.dataset.patient, e.dataset.note, e.dataset.crest, e.dataset.assertion])")
        check(len(cells) == 5 * len(notes), f"{len(cells)} matrix cells for {len(notes)} notes (5 each)")
        wrong = [c for c in cells
                 if c[1] not in notes or notes[c[1]][0] != c[0] or spelled(notes[c[1]][1][c[2]]) != c[3]]
        check(not wrong, f"every matrix cell agrees with JSONL ({len(wrong)} differ: {wrong[:3]})")
        seen = {(c[1], c[2]) for c in cells}
        check(len(seen) == len(cells), "each note's letter appears once")
        summary = page.eval_on_selector_all(
            "section.chart tfoot td[data-crest]",
            "els => els.map(e => [e.dataset.patient, e.dataset.crest, e.dataset.assertion, e.hasAttribute('data-note')])")
        check(len(summary) == 5 * len(by_patient), f"{len(summary)} summary cells for {len(by_patient)} patients")
        wrong = [s for s in summary if s[3] or spelled(by_patient[s[0]][s[1]]) != s[2]]
        check(not wrong, f"every summary cell is the union of its notes' (no data-note) ({wrong[:3]})")
        n5 = page.eval_on_selector_all(
            "section.chart", "els => els.map(e => [e.querySelector('tfoot td[data-crest]').dataset.patient, e.querySelector('tfoot .n5').textContent])")
        wrong = [x for x in n5 if x[1] != f"{sum('present' in s for s in by_patient[x[0]].values())}/5"]
        check(not wrong, f"n/5 counts only present features ({wrong[:3]})")

        # The cohort is the first view; filter it.
        check(page.locator("#cohort").is_visible(), "the cohort view opens first")
        rows = page.locator("#cohort-table tbody tr")
        check(rows.count() == len(by_patient), f"{rows.count()} cohort rows")
        meets = sum(1 for s in by_patient.values() if sum("present" in a for a in s.values()) >= 3)
        page.select_option("#filter", "crest3")
        visible = page.locator("#cohort-table tbody tr:not([hidden])").count()
        check(visible == meets and 0 < meets < len(by_patient),
              f"filter '3 of 5' shows {visible} patients, JSONL says {meets}")
        with_t = sum(1 for s in by_patient.values() if "present" in s["T"])
        page.select_option("#filter", "T")
        visible = page.locator("#cohort-table tbody tr:not([hidden])").count()
        check(visible == with_t, f"filter 'T present' shows {visible} patients, JSONL says {with_t}")
        page.select_option("#filter", "all")
        page.click("#cohort-table thead button[data-sort='n']")
        first_n = page.locator("#cohort-table tbody tr").first.get_attribute("data-n")
        check(first_n == str(max(sum("present" in a for a in s.values()) for s in by_patient.values())),
              f"sorting by n/5 puts the highest ({first_n}) first")
        page.click("#cohort-table thead button[data-sort='n']")
        first_n = page.locator("#cohort-table tbody tr").first.get_attribute("data-n")
        check(first_n == str(min(sum("present" in a for a in s.values()) for s in by_patient.values())),
              f"sorting again reverses it ({first_n} first)")

        # Into a patient's chart, then click a cell with a negated mention.
        row = page.locator("#cohort-table tbody tr", has=page.locator("td[data-assertion^='negated']")).first
        pid = row.locator("th a").text_content()
        row.locator("th a").click()
        chart = page.locator("section.chart:visible")
        check(chart.count() == 1 and pid in chart.locator("h2").text_content(), f"the link opens {pid}'s chart")
        shot = args.artifacts / "report-chart.png"
        page.screenshot(path=str(shot), full_page=False)
        print(f"screenshot: {shot}", flush=True)
        # Printed, the chart fits an A4 page: the stylesheet's @page size, and at the printable
        # width (210 mm less 2 x 12 mm margins, 703 px at 96 px per inch) nothing overflows.
        page.emulate_media(media="print")
        page.set_viewport_size({"width": 703, "height": 900})
        overflow = page.evaluate("document.documentElement.scrollWidth")
        check(overflow <= 703, f"printed, the chart needs {overflow} px of the 703 A4 gives")
        check(not page.locator(".back").first.is_visible(), "print leaves the navigation out")
        pdf = page.pdf(prefer_css_page_size=True)
        pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
        # A4 is 595 x 842 points (Chromium writes 594.96 x 841.92).
        a4 = re.search(rb"/MediaBox \[0 0 59[45]\.?\d* 84[12]\.?\d*\]", pdf) is not None
        check(pages == 1 and a4, f"the chart prints on {pages} A4 page(s) (A4 media box: {a4})")
        (args.artifacts / "report-chart.pdf").write_bytes(pdf)
        page.emulate_media(media="screen")
        page.set_viewport_size({"width": 1100, "height": 900})
        cell = chart.locator("td[data-note][data-assertion^='negated'] a").first
        td = chart.locator("td[data-note][data-assertion^='negated']").first
        note_id, letter = td.get_attribute("data-note"), td.get_attribute("data-crest")
        cell.click()
        mark = page.locator("mark:target")
        first = next(f for f in findings[note_id] if f["crest"] == letter)
        check(mark.count() == 1 and mark.is_visible(), "the cell opens the note at a highlighted mention")
        check(mark.text_content() == first["text"] and mark.get_attribute("data-crest") == letter
              and mark.get_attribute("data-assertion") == first["assertion"],
              f"the mention is {note_id}'s first {letter} finding: {first['text']!r} ({first['assertion']})")
        check(page.evaluate("document.activeElement.tagName") == "MARK", "the mention has the focus")
        detail = page.locator("#detail").text_content()
        check(first["assertion"] in detail and (first["trigger"] or "") in detail,
              f"its details say the assertion and the deciding words: {detail!r}")
        trig = page.locator("section.note:visible u.trigger")
        check(first["trigger"] is None or trig.count() > 0, "triggers are underlined")
        shot2 = args.artifacts / "report-note.png"
        page.screenshot(path=str(shot2))
        print(f"screenshot: {shot2}", flush=True)
        marks = page.locator("section.note:visible mark")
        before = page.evaluate("document.activeElement.id")
        page.keyboard.press("n")
        after = page.evaluate("document.activeElement.id")
        n_marks = marks.count()
        check(n_marks < 2 or (after != before and after.startswith(before.split('-')[0] + '-')),
              f"n moves to the next mention ({before} -> {after}, {n_marks} mentions)")
        page.keyboard.press("p")
        check(page.evaluate("document.activeElement.id") == before, "p moves back")
        check(page.locator("#mcount").text_content().startswith("Mention "), "the bar counts mentions")

        # Pasted markup in a note is text: there is exactly one script element, the report's.
        check(page.evaluate("document.scripts.length") == 1, "one script element (the report's own)")
        check(page.evaluate("document.querySelectorAll('main a[href^=\"javascript\"], main img, main b').length") == 0,
              "markup pasted into notes stays text")
        page.close()

        # Open the 10,000-note report and time it.
        big = work / "report-big.html"
        big_cohort = generate(work, args.big_notes // 10, args.big_notes)
        t0 = time.monotonic()
        report(args.bin, big_cohort, big)
        written = time.monotonic() - t0
        big_url = big.as_uri()
        allowed.add(big_url)
        context.unroute("**/*")
        context.route("**/*", lambda route: route.continue_() if route.request.url in (url, big_url) else route.abort())
        timings = []
        for _ in range(3):
            page = context.new_page()
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            # The renderer's CPU time (DevTools' Performance.ProcessTime) does not grow when
            # other processes share the cores, as the wall time does.
            cdp = context.new_cdp_session(page)
            cdp.send("Performance.enable")
            cpu0 = metric(cdp, "ProcessTime")
            t0 = time.monotonic()
            page.goto(big_url, wait_until="load")
            wall = time.monotonic() - t0
            cpu = metric(cdp, "ProcessTime") - cpu0
            nav = page.evaluate("(() => { const n = performance.getEntriesByType('navigation')[0]; return [n.domContentLoadedEventEnd, n.loadEventEnd]; })()")
            check(page.locator("#cohort").is_visible(), "the big report opens on its cohort")
            timings.append((wall, nav[0] / 1000, nav[1] / 1000, cpu))
            page.close()
        size = big.stat().st_size
        print(f"big report: {args.big_notes} notes, {size / 1e6:.1f} MB, written in {written:.2f} s; "
              "opened (wall s, DOMContentLoaded s, load s, renderer CPU s): "
              + "; ".join(f"{w:.2f}, {d:.2f}, {l:.2f}, {c:.2f}" for w, d, l, c in timings)
              + f"; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
        browser.close()

    shutil.rmtree(work, ignore_errors=True)
    check(not requests, f"no network request ({requests[:5]})")
    check(not problems, f"no script error or CSP violation ({problems[:5]})")
    if failures:
        print(f"{len(failures)} check(s) failed", flush=True)
        return 1
    print("all checks passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
