"""The scenario files, the run bookkeeping and the table."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard_cli.evaluation.record import Result
from switchboard_cli.evaluation.report import pass_rate, render_table, write_results
from switchboard_cli.evaluation.runner import NumberPool, RunReport
from switchboard_cli.evaluation.spec import SpecError, load_spec, load_suite

from .eval_fixtures import good_record, spec

ROOT = Path(__file__).parents[2]


def test_the_bundled_suite_loads_with_at_least_40_distinct_scenarios() -> None:
    suite = load_suite(ROOT / "scenarios" / "eval")
    assert len(suite) >= 40
    assert sum(s.needs == "llm" for s in suite) >= 5


def test_a_simulator_scenario_is_an_evaluation_scenario_with_the_same_claim_check() -> None:
    demo = load_spec(ROOT / "scenarios" / "demo.yaml")
    rules = demo.claim_rules()
    assert rules["incident_datetime"].equals == "2026-03-03T14:30:00-08:00"
    assert rules["incident_description"].contains is not None
    assert demo.simulation("+14155550100").customer[0].say.startswith("It happened")


def test_a_scenario_with_an_unknown_field_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("customer: [hi]\nexpect: {claims: {}}\n")
    with pytest.raises(SpecError, match=r"bad\.yaml"):
        load_spec(path)


def test_a_claim_rule_must_say_one_thing(tmp_path: Path) -> None:
    path = tmp_path / "two.yaml"
    path.write_text("expect: {claim: {x: {contains: a, absent: true}}}\n")
    with pytest.raises(SpecError):
        load_spec(path)


def test_the_number_pool_never_hands_out_a_number_twice() -> None:
    pool = NumberPool(seed=1)
    numbers = [pool.take() for _ in range(500)]
    assert len(set(numbers)) == 500
    assert all(n.startswith("+1") and len(n) == 12 for n in numbers)


def test_unjudged_criteria_neither_pass_nor_fail_a_run(tmp_path: Path) -> None:
    unjudged = Result(kind="judge", name="c", status="not_judged")
    ok = RunReport(spec(), good_record(), [Result.check("claim", "a", True), unjudged])
    bad = RunReport(
        spec(name="other", known_failure="not yet"),
        good_record(),
        [Result.check("claim", "a", False)],
    )
    assert ok.passed and ok.unjudged == 1
    assert not bad.passed
    assert pass_rate([ok, bad]) == 0.5
    table = render_table([ok, bad], [])
    assert "known failure: not yet" in table
    assert "pass rate: 1/2 runs (50.0%)" in table
    write_results(tmp_path / "results.jsonl", [ok, bad])
    assert len((tmp_path / "results.jsonl").read_text().splitlines()) == 2


def test_an_expectation_that_fails_in_one_of_two_runs_is_reported_as_flaky() -> None:
    from switchboard_cli.evaluation.report import failing_expectations

    ok = RunReport(spec(), good_record(), [Result.check("latency", "turn 1", True)])
    slow = RunReport(spec(), good_record(), [Result.check("latency", "turn 1", False, "9000 ms")])
    assert failing_expectations([ok, slow]) == ["demo: latency turn 1: 1/2 passed; 9000 ms"]
    known = RunReport(spec(known_failure="x"), good_record(), slow.results)
    assert failing_expectations([known]) == []
