"""Every kind of report in a real headless Chromium: each figure renders with its title and
axis titles, no console error, no request leaving the machine.

The browser comes from ``shared/tools/browser/setup.sh`` (a Chromium from the npm registry);
the tests skip, saying why, where it or Playwright is absent. Set ``ESCALATION_SHOTS`` to a
folder to keep a screenshot of every page there.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from browsing import browser_context
from builders import scenario, two_deciders

from escalation import api
from escalation.discover import discover

ROOT = Path(__file__).resolve().parent.parent
DEC2021 = ROOT / "scenarios" / "dec2021.yaml"


@pytest.fixture(scope="module")
def browser():
    with browser_context(viewport={"width": 1280, "height": 900}) as context:
        yield context


#: Reads what each plotly figure of the page shows: its title, axis titles and traces.
_INSPECT = """
() => [...document.querySelectorAll('.js-plotly-plot')].map(gd => {
  const text = sel => [...gd.querySelectorAll(sel)].map(e => e.textContent.trim())
                         .filter(t => t.length > 0);
  return {
    title: text('.gtitle').join(' '),
    xtitles: text('[class^="xtitle"], [class*=" xtitle"], [class^="x2title"], [class^="x3title"]'),
    ytitles: text('[class^="ytitle"], [class*=" ytitle"], [class^="y2title"], [class^="y3title"]'),
    traces: (gd._fullData || []).length,
    cartesian: Object.keys((gd._fullLayout && gd._fullLayout._subplots &&
                            gd._fullLayout._subplots.cartesian) || {}).length,
    dimensions: text('.axis-title').length,
    drawn: gd.querySelectorAll('.main-svg').length,
  };
})
"""


def _load(browser, page_path: Path, shots: str | None = None) -> tuple[list, list, list]:
    """Open a report; return its figures, its console errors and requests that left."""
    page = browser.new_page()
    errors: list[str] = []
    outside: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(request_route) -> None:
        url = request_route.request.url
        if re.match(r"^(file|data|blob|about):", url):
            request_route.continue_()
        else:
            outside.append(url)
            request_route.abort()

    page.route("**/*", route)
    page.goto(page_path.resolve().as_uri(), wait_until="load", timeout=120_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.js-plotly-plot')]"
        ".every(gd => gd._fullLayout && gd.querySelector('.main-svg'))",
        timeout=60_000,
    )
    figures = page.evaluate(_INSPECT)
    if shots:
        folder = Path(shots)
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{page_path.parent.name}.png"), full_page=True)
    page.goto("about:blank")
    return figures, errors, outside


def _check(browser, page_path: Path, expected_figures: int) -> list[dict]:
    figures, errors, outside = _load(browser, page_path, os.environ.get("ESCALATION_SHOTS"))
    assert errors == [], errors
    assert outside == [], outside
    assert len(figures) == expected_figures
    for figure in figures:
        assert figure["drawn"] >= 1 and figure["traces"] >= 1, figure
        assert figure["title"], figure
        if figure["cartesian"]:
            assert figure["xtitles"] and figure["ytitles"], figure
        else:  # parallel coordinates, scatter matrices: their dimensions carry the labels
            assert figure["dimensions"] or figure["title"], figure
    return figures


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("reports")
    run = api.run(DEC2021, trials=3000, seed=1)
    found = {"run": run.write(base / "run"), "light": run.write(base / "light", plotly_js="beside")}
    harsh = base / "harsh.yaml"
    harsh.write_text(
        DEC2021.read_text()
        .replace("title: Russia-Ukraine", "title: Harsher sanctions, Russia-Ukraine", 1)
        .replace("dist: triangular(0.2, 0.4, 0.8)", "dist: triangular(0.4, 0.8, 1.6)")
    )
    found["compare"] = api.compare([DEC2021, harsh], trials=2000).write(base / "compare")
    grid = base / "grid.yaml"
    grid.write_text(
        f"""
name: grid
scenario: {DEC2021.as_posix()}
design: grid
trials: 200
metrics: [p:full_scale_invasion, median_day:full_scale_invasion]
variables:
  severity: {{path: parameters.us_sanctions_severity.dist, values: [0.2, 0.6, 1.0]}}
  belief:
    path: parameters.russia_belief_us.dist
    values: [0.3, 0.7]
    format: "beta({{x}}*10, (1-{{x}})*10)"
"""
    )
    found["grid"] = api.sweep(grid, out=base / "grid").out
    lhs = base / "lhs.yaml"
    lhs.write_text(
        f"""
name: lhs
scenario: {DEC2021.as_posix()}
design: {{kind: lhs, samples: 30}}
trials: 200
metrics: [p:full_scale_invasion]
variables:
  severity: {{path: parameters.us_sanctions_severity.dist, range: [0.0, 1.5]}}
  cost: {{path: parameters.invasion_cost, quantile: true}}
"""
    )
    found["lhs"] = api.sweep(lhs, out=base / "lhs").out
    found["discover"] = discover(found["run"], "full_scale_invasion").write(base / "discover")
    two = api.run(scenario(two_deciders()), trials=1500, seed=3)
    found["two"] = two.write(base / "two")
    return found


def test_run_report_renders(browser, folders: dict[str, Path]) -> None:
    figures = _check(browser, folders["run"] / "report.html", 6)
    titles = [f["title"] for f in figures]
    assert "How the crisis ends" in titles
    assert any("each violent rung" in t for t in titles)
    assert any(t.startswith("What drives") for t in titles)
    assert any("(PRIM)" in t for t in titles)
    assert any("date (day 0 = 7 Dec 2021)" in x for f in figures for x in f["xtitles"])


def test_lighter_run_report_renders_from_plotly_beside_it(browser, folders) -> None:
    assert (folders["light"] / "plotly.min.js").is_file()
    _check(browser, folders["light"] / "report.html", 6)


def test_sweep_reports_render(browser, folders: dict[str, Path]) -> None:
    grid = _check(browser, folders["grid"] / "report.html", 2)
    assert [f["title"] for f in grid] == [
        "P(full-scale invasion)",
        "median day of full-scale invasion",
    ]
    lhs = _check(browser, folders["lhs"] / "report.html", 3)
    assert any("(PRIM)" in f["title"] for f in lhs)


def test_compare_report_renders(browser, folders: dict[str, Path]) -> None:
    figures = _check(browser, folders["compare"] / "report.html", 2)
    assert figures[1]["title"].startswith("Harsher sanctions, Russia-Ukraine crisis")
    assert "minus Russia-Ukraine" in figures[1]["title"]


def test_run_report_of_two_deciders_renders_a_panel_each(browser, folders) -> None:
    figures = _check(browser, folders["two"] / "report.html", 6)
    timeline = next(f for f in figures if f["title"] == "Trajectory of the crisis")
    # A panel per deciding actor, then the provisional outcome: three y axes, each titled.
    assert timeline["cartesian"] == 3 and len(timeline["ytitles"]) == 3


def test_discover_report_renders(browser, folders: dict[str, Path]) -> None:
    _check(browser, folders["discover"] / "report.html", 1)
