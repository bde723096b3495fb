"""Telemetry from CSV files: the reader, its errors, and `trilink diagnose --csv` on simulated data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from trilink.cli.main import cli
from trilink.diagnostics.csvinput import CsvFormatError, CsvReport, read_samples
from trilink.sim.climates import solo_unit

DAY = 86400.0


def read(text: str) -> tuple[list[tuple[float, dict[str, float]]], CsvReport]:
    report = CsvReport()
    samples = [(s.ts, dict(s.values)) for s in read_samples(text, report)]
    return samples, report


def test_rows_become_samples_by_property_name() -> None:
    samples, report = read(
        "ts,airflow,on,supply-air-temperature\n"
        "1800000000,520.5,true,14.2\n"
        "2027-01-15T08:10:00Z,,false,\n"
        "2027-01-15T16:20:00+08:00,500,1,15\n"
    )
    assert report.samples == 3 and report.skipped == []
    assert samples[0] == (1800000000.0, {"airflow": 520.5, "on": 1.0, "supply-air-temperature": 14.2})
    assert samples[1] == (1800000600.0, {"on": 0.0})  # empty cells are not reported values
    assert samples[2][0] == 1800000000.0 + 1200


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "empty"), ("airflow,fan-power\n1,2\n", "no 'ts' column"), ("ts,a,a\n1,2,3\n", "twice")],
)
def test_an_unusable_file_is_refused_clearly(text: str, message: str) -> None:
    with pytest.raises(CsvFormatError, match=message):
        read(text)


def test_bad_rows_are_skipped_with_their_line_and_the_rest_is_used() -> None:
    samples, report = read(
        "ts,airflow\n"
        "100,500\n"
        "yesterday,500\n"  # line 3: bad time
        "200,lots\n"  # line 4: not a number
        "300,nan\n"  # line 5: not finite
        "50,500\n"  # line 6: goes back in time
        "400\n"  # line 7: too few values
        "\n"
        "500,480\n"
    )
    assert [ts for ts, _ in samples] == [100.0, 500.0]
    assert [line for line, _ in report.skipped] == [3, 4, 5, 6, 7]
    assert "before the previous" in report.skipped[3][1]


def write_unit_csv(path: Path, days: float, **fault: float) -> None:
    """A simulated unit's noisy telemetry as CSV, the fault coming on after day 6."""
    unit = solo_unit("hot-humid", "all-day", 7, sensor_noise=True)
    start = unit.time
    lines: list[str] = []
    header: list[str] | None = None
    for ts, values in unit.run(days * DAY, 600.0):
        if fault and ts - start >= 6 * DAY:
            for name, value in fault.items():
                setattr(unit.ac, name, value)
            fault = {}
        if header is None:
            header = sorted(values)
            lines.append(",".join(["ts", *header]))
        lines.append(",".join([f"{ts:.0f}", *(f"{values.get(h, ''):}" for h in header)]))
    path.write_text("\n".join(lines) + "\n", "utf-8")


def test_trilink_diagnose_finds_a_clogged_filter_in_a_csv(tmp_path: Path) -> None:
    path = tmp_path / "unit.csv"
    write_unit_csv(path, 16, filter_clog_rate=0.03)
    result = CliRunner().invoke(cli, ["diagnose", "--csv", str(path), "--kind", "ac", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["samples"] > 2000 and out["skipped"] == []
    (finding,) = out["findings"]
    assert finding["fault"] == "filter_clog" and 0.15 < finding["severity"] < 0.45
    text = CliRunner().invoke(cli, ["diagnose", "--csv", str(path)])
    assert "filter_clog" in text.output and "m³/h" in text.output


def test_trilink_diagnose_on_a_healthy_unit_and_on_bad_files(tmp_path: Path) -> None:
    healthy = tmp_path / "healthy.csv"
    write_unit_csv(healthy, 10)
    result = CliRunner().invoke(cli, ["diagnose", "--csv", str(healthy)])
    assert result.exit_code == 0 and "nothing found" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("when,airflow\n1,2\n", "utf-8")
    result = CliRunner().invoke(cli, ["diagnose", "--csv", str(bad)])
    assert result.exit_code != 0 and "no 'ts' column" in result.output
    result = CliRunner().invoke(cli, ["diagnose", "--csv", str(tmp_path / "missing.csv")])
    assert result.exit_code != 0 and "cannot read" in result.output
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    result = CliRunner().invoke(cli, ["diagnose", "--csv", str(binary)])
    assert result.exit_code != 0 and "cannot read" in result.output
