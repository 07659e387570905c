"""The explore page in a real headless Chromium: the server on a free port in a thread, controls
moved as a user moves them, the numbers shown checked against ``escalation.run`` for the same
settings, the exports saved and validated, a reload giving the same page.

The browser comes from ``shared/tools/browser/setup.sh`` (a Chromium from the npm registry);
the tests skip, saying why, where it, Playwright or Dash is absent. Set ``ESCALATION_SHOTS`` to
a folder to keep screenshots of the page there.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from browsing import browser_context

from escalation import api
from escalation.explore import missing
from escalation.explore.document import Explorer
from escalation.explore.replay import paired_differences
from escalation.scenario.load import load_scenario, scenario_hash
from escalation.sweeps.experiment import load_experiment

ROOT = Path(__file__).resolve().parent.parent
DEC2021 = ROOT / "scenarios" / "dec2021.yaml"
KARGIL = ROOT / "scenarios" / "kargil1999.yaml"
WAIT_MS = 120_000


@pytest.fixture(scope="module")
def browser():
    if missing() is not None:
        pytest.skip('Dash is not installed (pip install "escalation[explore]")')
    with browser_context(
        viewport={"width": 1400, "height": 1000}, accept_downloads=True
    ) as context:
        yield context


def _serve(path: Path):
    """The page of ``path`` served on a free port of localhost, in a thread."""
    from werkzeug.serving import make_server

    from escalation.explore.app import create_app

    app = create_app(path)
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return app, server, f"http://127.0.0.1:{server.server_port}/"


@pytest.fixture(scope="module")
def dec_page():
    app, server, url = _serve(DEC2021)
    yield app, url
    server.shutdown()
    app.replayer.close()


def _control(page, kind: str, name: str):
    return page.locator(f'[id=\'{{"kind":"{kind}","name":"{name}"}}\']')


def _shown(page, query: str) -> dict[str, dict[str, str]]:
    """Wait for the numbers of ``query``'s settings; return them by outcome."""
    page.wait_for_function(
        "q => { const t = document.querySelector('#outcome-table');"
        " return t && t.dataset.query === q; }",
        arg=query,
        timeout=WAIT_MS,
    )
    return page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('tr.outcome-row')].map("
        "r => [r.dataset.outcome, {...r.dataset}]))"
    )


def _query(page) -> str:
    return page.evaluate("() => location.search").lstrip("?")


def _shoot(page, name: str) -> None:
    folder = os.environ.get("ESCALATION_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=True)


def _check_numbers(explorer: Explorer, query: str, shown: dict) -> None:
    built = explorer.build(query)
    expected = api.run(built.scenario)
    written = api.run(
        explorer.scenario, trials=built.scenario.trials, horizon=built.scenario.horizon
    )
    paired = paired_differences(written.trials, expected.trials, expected.outcomes)
    assert list(shown) == expected.outcomes
    for row in paired.itertuples():
        cells = shown[row.outcome]
        assert int(cells["count"]) == row.count
        assert int(cells["baseCount"]) == row.base_count
        assert float(cells["difference"]) == pytest.approx(row.difference, abs=1e-12)


def test_controls_replay_export_and_reload(browser, dec_page, tmp_path: Path) -> None:
    app, url = dec_page
    explorer: Explorer = app.explorer
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url + "?trials=2000", wait_until="load", timeout=WAIT_MS)
    first = _shown(page, "trials=2000")
    _check_numbers(explorer, "trials=2000", first)
    assert all(float(cells["difference"]) == 0 for cells in first.values())

    # Move controls as a user does: a policy off, a follow-through typed, a quantile, a grant.
    page.locator("#policy-eu_sanctions input[type=checkbox]").click()
    typed = _control(page, "follow_through", "us_sanctions_invasion")
    typed.fill("0.3")
    typed.press("Enter")
    _control(page, "quantile", "russia_lambda").fill("0.9")
    _control(page, "grant", "minsk").fill("30")
    query = (
        "trials=2000&enabled.eu_sanctions=0&follow_through.us_sanctions_invasion=0.3"
        "&quantile.russia_lambda=0.9&grant.minsk=30"
    )
    page.wait_for_function("q => location.search === '?' + q", arg=query, timeout=WAIT_MS)
    shown = _shown(page, query)
    _check_numbers(explorer, query, shown)
    assert float(shown["full_scale_invasion"]["difference"]) != 0
    assert "eu_sanctions switched off" in page.inner_text("#changes")
    _shoot(page, "explore-dec2021.png")

    # A setting that makes the scenario invalid: the located message, the last result stays.
    horizon = _control(page, "run", "horizon")
    horizon.fill("0")
    horizon.press("Enter")
    page.wait_for_selector("#error-text", timeout=WAIT_MS)
    message = page.inner_text("#error-text")
    invalid = explorer.build(query + "&horizon=0")
    assert message.strip() == f"error: {invalid.error}".strip()
    assert page.get_attribute("#outcome-table", "data-query") == query
    assert _query(page) == query  # the URL keeps the last good settings
    _shoot(page, "explore-invalid.png")
    horizon.fill("120")
    horizon.press("Enter")
    page.wait_for_function("() => !document.querySelector('#error-text')", timeout=WAIT_MS)

    # Exports: a valid scenario saying what changed, and an experiment of the same point.
    with page.expect_download() as download:
        page.click("#export-scenario")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    loaded = load_scenario(saved)
    assert scenario_hash(loaded) == scenario_hash(explorer.build(query).scenario)
    assert (
        "# Changed from" in saved.read_text() and "eu_sanctions switched off" in saved.read_text()
    )
    with page.expect_download() as download:
        page.click("#export-experiment")
    experiment = tmp_path / download.value.suggested_filename
    download.value.save_as(experiment)
    point = load_experiment(experiment)
    assert point.trials == 2000 and len(point.design.points) == 1

    # A reload gives the same page: the controls as set, the same numbers.
    page.reload(wait_until="load")
    again = _shown(page, query)
    assert again == shown
    assert not page.locator("#policy-eu_sanctions input[type=checkbox]").is_checked()
    assert _control(page, "follow_through", "us_sanctions_invasion").input_value() == "0.3"
    assert errors == [], errors
    page.goto("about:blank")


def test_two_deciders(browser, tmp_path: Path) -> None:
    app, server, url = _serve(KARGIL)
    try:
        page = browser.new_page()
        page.goto(url + "?trials=1000&grant.withdrawal=5", wait_until="load", timeout=WAIT_MS)
        shown = _shown(page, "trials=1000&grant.withdrawal=5")
        _check_numbers(app.explorer, "trials=1000&grant.withdrawal=5", shown)
        for policy in app.explorer.scenario.policies:
            assert page.locator(f"#policy-{policy}").count() == 1
        assert "adds a concede policy" in page.inner_text("#demand-withdrawal")
        _shoot(page, "explore-kargil1999.png")
        page.goto("about:blank")
    finally:
        server.shutdown()
        app.replayer.close()
