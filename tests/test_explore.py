"""The explore page's machinery: controls from any scenario, settings, the scenario and
experiment they export, replays with common random numbers, the Dash callbacks under fuzzing.

The page in a real browser is in ``test_explore_browser.py``.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from escalation import api
from escalation.cli import app as cli_app
from escalation.explore import document, missing
from escalation.explore.document import Explorer
from escalation.explore.replay import Replayer, paired_differences
from escalation.explore.settings import Settings
from escalation.scenario.load import load_scenario, scenario_hash
from escalation.sweeps.experiment import load_experiment

ROOT = Path(__file__).resolve().parent.parent
DEC2021 = ROOT / "scenarios" / "dec2021.yaml"
KARGIL = ROOT / "scenarios" / "kargil1999.yaml"

needs_dash = pytest.mark.skipif(
    missing() is not None, reason='Dash is not installed (pip install "escalation[explore]")'
)


@pytest.fixture(scope="module")
def dec() -> Explorer:
    return Explorer(DEC2021)


@pytest.fixture(scope="module")
def kargil() -> Explorer:
    return Explorer(KARGIL)


# --- controls and settings ----------------------------------------------------------------


def test_controls_of_one_and_two_deciders(dec: Explorer, kargil: Explorer) -> None:
    controls = dec.controls
    assert list(controls.policies) == list(dec.scenario.policies)
    sanctions = controls.policies["us_sanctions_invasion"]
    assert (sanctions.follow_through.text, sanctions.follow_through.kind) == (
        "us_follow_through",
        "parameter",
    )
    assert sanctions.perceived.kind == "belief"  # us_resolve, a belief that learns
    assert controls.policies["us_defensive_aid"].perceived.kind == "default"
    assert controls.policies["us_concede_nato"].follow_through.kind == "number"
    # Constants are not uncertain; every distribution and path with spread is.
    assert "russia_stake" not in controls.parameters
    assert controls.parameters["russia_forces"].days == (0, 56)
    assert not controls.parameters["clash_rate"].shiftable  # lognormal: no exact shift
    assert controls.parameters["ukraine_capability"].shiftable
    assert [g.policies for g in controls.demands["minsk"].grants] == [("ukraine_implements_minsk",)]
    # kargil1999: two deciders who concede by choice, and a trade.
    assert set(kargil.controls.demands) == {"withdrawal", "kashmir_talks", "halt_air_strikes"}
    withdrawal = kargil.controls.demands["withdrawal"]
    assert withdrawal.group == ("withdrawal", "kashmir_talks")
    assert withdrawal.adds_policies
    assert kargil.controls.policies["india_warns_pakistan"].follow_through.kind == "parameter"


def test_settings_round_trip_through_the_url(dec: Explorer) -> None:
    original = Settings(
        trials=3000,
        horizon=60,
        enabled={"eu_sanctions": False},
        follow_through={"us_sanctions_invasion": "0.25"},
        perceived={"eu_sanctions": "russia_belief_eu * 2"},
        quantile={"russia_lambda": 0.9},
        shift={"ukraine_capability": -12.5},
        grant={"minsk": 30},
    )
    read, notes = Settings.from_query(original.to_query(), dec.controls)
    assert notes == []
    assert read == original


def test_unreadable_settings_are_dropped_with_notes(dec: Explorer) -> None:
    read, notes = Settings.from_data(
        {
            "trials": "many",
            "enabled": {"no_such_policy": True, "eu_sanctions": "maybe"},
            "quantile": {"russia_lambda": 1.5},
            "shift": {"clash_rate": 1},  # a lognormal has no exact shift
            "grant": ["minsk"],
            "other": 1,
        },
        dec.controls,
    )
    assert read.is_empty()
    assert len(notes) == 7, notes
    # As written is no change: the scenario's own trials, a policy left as it is.
    same, _ = Settings.from_data(
        {"trials": dec.scenario.trials, "enabled": {"eu_sanctions": True}}, dec.controls
    )
    assert same.is_empty()


_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)
_names = st.sampled_from(
    ["us_sanctions_invasion", "eu_sanctions", "russia_lambda", "russia_forces", "minsk", "x"]
)
_settings_data = st.fixed_dictionaries(
    {},
    optional={
        "trials": _values,
        "horizon": _values,
        **{key: st.dictionaries(_names, _values, max_size=3) | _values for key in Settings.KEYS},
    },
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_settings_data | _values)
def test_any_settings_build_a_scenario_or_a_located_error(dec: Explorer, data) -> None:
    built = dec.build(data)
    assert built.ok != (built.error is not None)
    if built.error is not None:
        assert built.error.file == dec.export_name
    query_again = dec.build(built.settings.to_query())
    assert query_again.settings == built.settings


# --- the exported scenario and experiment -------------------------------------------------


CHANGED = (
    "trials=3000&horizon=90&enabled.eu_sanctions=0&follow_through.us_sanctions_invasion=0.3"
    "&perceived.us_flank_reinforcement=0.5&quantile.russia_lambda=0.9&quantile.russia_forces=0.2"
    "&shift.ukraine_capability=10&shift.invasion_cost=0.1&quantile.invasion_cost=0.5"
    "&grant.minsk=30"
)


def test_export_is_a_valid_scenario_saying_what_changed(dec: Explorer, tmp_path: Path) -> None:
    built = dec.build(CHANGED)
    assert built.ok, built.error
    path = tmp_path / dec.export_name
    path.write_text(built.text)
    loaded = load_scenario(path)
    assert scenario_hash(loaded) == scenario_hash(built.scenario)
    header = [line for line in built.text.splitlines() if line.startswith("#")]
    assert any("eu_sanctions switched off" in line for line in header)
    assert any("russia_lambda fixed at its 0.9 quantile" in line for line in header)
    assert any("uniform(60, 120) -> uniform(70, 130)" in line for line in header)
    assert loaded.policies["eu_sanctions"].enabled is False
    assert loaded.policies["us_sanctions_invasion"].follow_through == 0.3
    assert loaded.policies["ukraine_implements_minsk"].when == "day >= 30"
    assert loaded.trials == 3000 and loaded.horizon == 90
    # Shifted then fixed: the shifted distribution's median, a plain number.
    assert loaded.parameters["invasion_cost"].dist == pytest.approx(0.1 + _median(0.3, 0.6, 1.2))
    # Fixed at a quantile, as a sweep's quantile variable writes it.
    lam = float(loaded.parameters["russia_lambda"].dist)
    assert lam == pytest.approx(5 + 0.9 * 10)


def _median(lo: float, mode: float, hi: float) -> float:
    # Triangular median, for mode >= (lo + hi) / 2 the lower branch does not hold here.
    if mode >= (lo + hi) / 2:
        return lo + math.sqrt((hi - lo) * (mode - lo) / 2)
    return hi - math.sqrt((hi - lo) * (hi - mode) / 2)


def test_experiment_export_makes_the_same_scenario(dec: Explorer, tmp_path: Path) -> None:
    built = dec.build(CHANGED)
    path = tmp_path / dec.experiment_name
    path.write_text(built.experiment_text)
    loaded = load_experiment(path)
    assert len(loaded.design.points) == 1
    assert loaded.trials == 3000
    point = loaded.point_scenario(loaded.design.points[0])
    expected = built.scenario.model_copy(update={"trials": 3000})
    assert scenario_hash(point) == scenario_hash(expected)
    assert any(v.quantile for v in loaded.experiment.variables.values())


def test_nothing_changed_exports_the_scenario_as_written(dec: Explorer, tmp_path: Path) -> None:
    built = dec.build("")
    assert built.changes == [] and built.added == []
    assert scenario_hash(built.scenario) == scenario_hash(dec.scenario)
    path = tmp_path / dec.experiment_name
    path.write_text(built.experiment_text)
    loaded = load_experiment(path)
    assert scenario_hash(loaded.point_scenario(loaded.design.points[0])) == scenario_hash(
        dec.scenario
    )


@pytest.mark.parametrize(
    "query",
    [
        "horizon=0",
        "trials=60000000",
        "follow_through.eu_sanctions=eu_unty * 2",
        "perceived.us_sanctions_invasion=beta(2, 3)",
    ],
)
def test_invalid_settings_give_the_message_validate_gives(
    dec: Explorer, tmp_path: Path, monkeypatch, query: str
) -> None:
    built = dec.build(query)
    assert not built.ok
    monkeypatch.chdir(tmp_path)
    Path(dec.export_name).write_text(built.text)
    done = CliRunner().invoke(cli_app, ["validate", dec.export_name])
    assert done.exit_code == 2
    assert built.error.line is not None
    assert done.stderr.rstrip() == f"error: {built.error}".rstrip()


def test_kargil_grant_adds_concede_policies(kargil: Explorer, tmp_path: Path) -> None:
    built = kargil.build({"grant": {"withdrawal": 5}})
    assert built.ok, built.error
    assert [p.name for p in built.added] == [
        "explore_grant_withdrawal_by_pakistan",
        "explore_grant_kashmir_talks_by_india",
    ]
    assert "Not expressible here" in built.experiment_text
    # Deciding grantors may still concede by choice, and an offer in a trade can lapse at the
    # offerer's next decision (model.md, 4.4): the added policies make day 5 the usual day of
    # the grant, not the only one.
    on_day = [
        int((api.run(s, trials=2000).trials["day_granted:kashmir_talks"] == 5).sum())
        for s in (kargil.scenario, built.scenario)
    ]
    assert on_day[1] > 10 * max(on_day[0], 1) and on_day[1] > 1000


# --- replays -------------------------------------------------------------------------------


def test_paired_differences_by_trial() -> None:
    base = pd.DataFrame({"outcome": ["a", "a", "b", "b"]})
    changed = pd.DataFrame({"outcome": ["a", "b", "b", "b"]})
    table = paired_differences(base, changed, ["a", "b"]).set_index("outcome")
    assert table.loc["b", "difference"] == pytest.approx(0.25)
    d = np.array([0, 1, 0, 0], dtype=float)
    half = 1.959963984540054 * d.std(ddof=1) / 2
    assert table.loc["b", "diff_hi"] == pytest.approx(0.25 + half)
    assert table.loc["a", "count"] == 1 and table.loc["a", "base_count"] == 2


@pytest.fixture(scope="module")
def replayer(dec: Explorer):
    replayer = Replayer(dec)
    yield replayer
    replayer.close()


def test_replay_equals_escalation_run(dec: Explorer, replayer: Replayer) -> None:
    built = dec.build("trials=2000&grant.minsk=20&enabled.eu_sanctions=0")
    job = replayer.wait(replayer.submit("a", built))
    assert job.state == "done", job.error
    expected = api.run(built.scenario)
    written = api.run(dec.scenario, trials=2000)
    table = job.replay.table
    assert table["count"].tolist() == expected.summary["count"].tolist()
    assert table["base_count"].tolist() == written.summary["count"].tolist()
    paired = paired_differences(written.trials, expected.trials, expected.outcomes)
    assert np.allclose(table["difference"], paired["difference"])
    # Granted on day 20, never before: the concede policy waits for its day.
    days = job.replay.result.trials["day_granted:minsk"].dropna()
    assert len(days) > 0 and (days == 20).all()
    assert set(job.replay.figures) >= {"outcomes", "timeline"}


def test_no_change_is_the_scenario_as_written(dec: Explorer, replayer: Replayer) -> None:
    job = replayer.wait(replayer.submit("b", dec.build("trials=1500")))
    assert job.state == "done", job.error
    assert (job.replay.table["difference"] == 0).all()
    assert (job.replay.table["diff_lo"] == 0).all()


def test_a_newer_change_supersedes_the_older(dec: Explorer, replayer: Replayer) -> None:
    first = replayer.submit("c", dec.build("trials=30000&enabled.us_defensive_aid=0"))
    second = replayer.submit("c", dec.build("trials=1000&enabled.us_defensive_aid=0"))
    replayer.wait(second)
    replayer.wait(first)
    assert first.state == "superseded"
    assert second.state == "done"
    # Another page's job is not superseded by this one's.
    other = replayer.submit("d", dec.build("trials=1000&horizon=30"))
    mine = replayer.submit("c", dec.build("trials=1000&horizon=31"))
    assert replayer.wait(other).state == "done" and replayer.wait(mine).state == "done"


def test_a_long_replay_shows_its_progress(dec: Explorer) -> None:
    replayer = Replayer(dec)  # nothing cached: the scenario as written is played first
    try:
        job = replayer.submit("f", dec.build("trials=20000&horizon=40&enabled.eu_sanctions=0"))
        seen = []
        while not job.finished:
            seen.append(job.progress)
            time.sleep(0.005)
        assert job.state == "done", job.error
        assert job.total == 40_000 and job.progress == 1.0
        assert seen == sorted(seen)
        assert any(0 < p < 1 for p in seen)  # between blocks of 8,192 trials
    finally:
        replayer.close()


def test_a_superseded_replay_keeps_the_scenario_as_written_it_played(dec: Explorer) -> None:
    replayer = Replayer(dec)
    try:
        first = replayer.submit("g", dec.build("trials=20000&horizon=50&enabled.eu_sanctions=0"))
        while first.done == 0 and not first.finished:
            time.sleep(0.002)
        assert first.state == "running"  # playing the scenario as written
        second = replayer.submit("g", dec.build("trials=20000&horizon=50&grant.minsk=9"))
        replayer.wait(second)
        assert first.state == "superseded" and second.state == "done"
        assert second.total == 20_000  # the scenario as written was not played twice
    finally:
        replayer.close()


def test_replayer_refuses_an_invalid_scenario(dec: Explorer, replayer: Replayer) -> None:
    with pytest.raises(ValueError):
        replayer.submit("e", dec.build("horizon=0"))
    assert replayer.job("not an id") is None and replayer.job(True) is None


# --- the command line ----------------------------------------------------------------------


def test_explore_without_dash_says_what_to_install(monkeypatch) -> None:
    monkeypatch.setattr("escalation.explore.missing", lambda: "dash")
    done = CliRunner().invoke(cli_app, ["explore", str(DEC2021)])
    assert done.exit_code == 2
    assert 'pip install "escalation[explore]"' in done.stderr
    assert "Traceback" not in done.stderr


@needs_dash
def test_explore_of_an_invalid_scenario_is_located(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(DEC2021.read_text().replace("horizon: 120", "horizon: 0"))
    done = CliRunner().invoke(cli_app, ["explore", str(bad)])
    assert done.exit_code == 2
    assert done.stderr.startswith(f"error: {bad}:") and "horizon" in done.stderr


@needs_dash
def test_explore_on_a_busy_port_exits_2(monkeypatch) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = CliRunner().invoke(cli_app, ["explore", str(DEC2021), "--port", str(port)])
    assert done.exit_code == 2, done.output
    assert "--port" in done.stderr and "Traceback" not in done.stderr


# --- the Dash callbacks under fuzzing -------------------------------------------------------


class _Queueing(Replayer):
    """A replayer that queues jobs and never plays them: the fuzz tests are about what the
    callbacks make of their inputs, and thousands of replays would only slow them."""

    def _start(self) -> None:
        pass


def _client(dec: Explorer, replayer: Replayer):
    if missing() is not None:
        pytest.skip('Dash is not installed (pip install "escalation[explore]")')
    from escalation.explore.app import create_app

    app = create_app(DEC2021, explorer=dec, replayer=replayer)
    return app, app.server.test_client()


@pytest.fixture(scope="module")
def client(dec: Explorer):
    app, http = _client(dec, _Queueing(dec))
    yield app, http
    app.replayer.close()


def _changed_request(app, values: dict[str, list], names: dict[str, list]) -> dict:
    """A request as the page makes it when a control changes."""
    key = next(k for k in app.callback_map if k.startswith("..url.search"))
    kinds = ["enabled", "follow_through", "perceived", "quantile", "shift", "grant", "run"]

    def entries(prop: str) -> list:
        return [
            [
                {"id": {"kind": kind, "name": name}, "property": prop, "value": value}
                for name, value in zip(names[kind], values[kind], strict=False)
            ]
            for kind in kinds
        ]

    outputs = [
        {"id": o.split(".")[0], "property": o.split(".")[1]} for o in key.strip(".").split("...")
    ]
    state = [
        [{"id": e["id"], "property": "id", "value": e["id"]} for e in group]
        for group in entries("id")
    ]
    state.append({"id": "session", "property": "data", "value": "fuzz"})
    return {
        "output": key,
        "outputs": outputs,
        "inputs": entries("value"),
        "state": state,
        "changedPropIds": [],
    }


_kinds = ["enabled", "follow_through", "perceived", "quantile", "shift", "grant", "run"]


@needs_dash
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.fixed_dictionaries({kind: st.lists(_values, max_size=3) for kind in _kinds}),
    names=st.fixed_dictionaries(
        {kind: st.lists(_names | st.text(max_size=8), max_size=3) for kind in _kinds}
    ),
)
def test_fuzzed_controls_never_crash_the_server(client, values, names) -> None:
    app, http = client
    body = _changed_request(app, values, names)
    response = http.post("/_dash-update-component", json=body)
    assert response.status_code in (200, 204), response.data[:300]


@needs_dash
@settings(max_examples=60, deadline=None)
@given(body=_values)
def test_any_request_body_gets_an_answer_not_a_crash(client, body) -> None:
    _, http = client
    response = http.post("/_dash-update-component", data=json.dumps(body, default=str))
    assert response.status_code < 500
    # The server still answers the page.
    assert http.get("/_dash-layout").status_code == 200


@needs_dash
def test_a_good_request_replays_and_writes_the_url(dec: Explorer) -> None:
    app, http = _client(dec, Replayer(dec))
    names = {kind: [] for kind in _kinds}
    values = {kind: [] for kind in _kinds}
    names["enabled"], values["enabled"] = ["eu_sanctions"], [[]]
    names["run"], values["run"] = ["trials"], [1200]
    response = http.post("/_dash-update-component", json=_changed_request(app, values, names))
    assert response.status_code == 200
    answer = response.get_json()["response"]
    assert answer["url"]["search"] == "?trials=1200&enabled.eu_sanctions=0"
    job = app.replayer.job(answer["job"]["data"])
    assert app.replayer.wait(job).state == "done"
    app.replayer.close()


def test_document_module_needs_no_dash() -> None:
    # The settings and the exports work without the web framework (the extra is optional).
    assert "dash" not in document.__dict__
