"""``trilink diagnose``: maintenance reminders of the home or a device, or a CSV of telemetry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from trilink.cli.client import HubClient, _hub_options, _path
from trilink.cli.output import format_time, print_json, table


def _reminder_rows(reminders: list[dict[str, Any]]) -> list[list[str]]:
    return [
        [
            str(r["id"]),
            r["did"],
            r["fault"],
            r["status"],
            f"{r['severity']:.0%}",
            format_time(r["detected_at"]),
        ]
        for r in reminders
    ]


def from_hub(hub: HubClient, did: str | None) -> None:
    """The home's live reminders, or one device's detectors and reminders."""
    reminders = hub.request("GET", "/api/diagnostics/reminders", params={"active": "true"})["reminders"]
    if did is not None:
        status = hub.request("GET", _path("diagnostics", "devices", did))
        reminders = [r for r in reminders if r["did"] == did]
        if hub.as_json:
            print_json({"device": status, "reminders": reminders})
            return
        names = ", ".join(d["name"] for d in status["detectors"])
        click.echo(f"{did}: watched by {names}")
    elif hub.as_json:
        print_json({"reminders": reminders})
        return
    if not reminders:
        click.echo("no open maintenance reminders")
        return
    click.echo(table(["id", "device", "fault", "status", "severity", "found"], _reminder_rows(reminders)))
    for r in reminders:
        click.echo(f"\n#{r['id']} {r['did']} — {r['fault']}\n  {r['evidence']}\n  {r['advice']}")


def from_csv(path: Path, kind: str, did: str, as_json: bool) -> None:
    """Run a detector over a CSV of telemetry (docs/diagnostics.md) and print what it finds."""
    from trilink.diagnostics.csvinput import CsvFormatError, diagnose_csv
    from trilink.diagnostics.service import default_detectors

    (detector,) = default_detectors(did, "air-conditioner" if kind == "ac" else "electric-car")
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"cannot read {path}: {exc}") from None
    try:
        result = diagnose_csv(text, detector)
    except CsvFormatError as exc:
        raise click.ClickException(f"{path}: {exc}") from None
    report, findings = result.report, result.findings
    if as_json:
        print_json(
            {
                "samples": report.samples,
                "skipped": [{"line": line, "reason": why} for line, why in report.skipped],
                "findings": [
                    {
                        "fault": f.fault,
                        "severity": f.severity,
                        "confidence": f.confidence,
                        "since": f.since,
                        "detected_at": f.detected_at,
                        "evidence": f.evidence,
                        "advice": f.advice,
                        "energy_kwh_per_day": f.energy_kwh_per_day,
                    }
                    for f in findings
                ],
                "first_seen": result.first_seen,
                "no_longer_found": result.gone,
                "state": json.loads(json.dumps(detector.state(), default=str)),
            }
        )
        return
    click.echo(f"{path}: {report.samples} samples read, {len(report.skipped)} rows skipped")
    for line, why in report.skipped[:10]:
        click.echo(f"  line {line}: {why}")
    if not findings:
        gone = result.gone
        click.echo("nothing found" + (f" at the end (earlier: {', '.join(gone)})" if gone else ""))
    for f in findings:
        click.echo(
            f"\n{f.fault} (severity {f.severity:.0%}, first found {format_time(result.first_seen[f.fault])})"
        )
        click.echo(f"  {f.evidence}\n  {f.advice}")


def register(group: click.Group) -> None:
    """Add ``diagnose`` to ``group``."""

    @group.command("diagnose")
    @click.argument("did", required=False)
    @click.option(
        "--csv", "csv_path", type=click.Path(path_type=Path), help="Diagnose a CSV of telemetry instead."
    )
    @click.option(
        "--kind", type=click.Choice(["ac", "ev"]), default="ac", show_default=True, help="With --csv."
    )
    @click.option("--url", envvar="TRILINK_URL", default="http://127.0.0.1:8765", hidden=True)
    @click.option("--token", envvar="TRILINK_TOKEN", hidden=True)
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    def diagnose_command(
        did: str | None, csv_path: Path | None, kind: str, url: str, token: str | None, as_json: bool
    ) -> None:
        """Maintenance reminders of the home or of one device (from the hub), or diagnose a CSV
        of telemetry offline: `trilink diagnose --csv unit.csv --kind ac` (format: docs/diagnostics.md)."""
        if csv_path is not None:
            from_csv(csv_path, kind, did or csv_path.stem, as_json)
            return
        run = _hub_options(lambda did, hub: from_hub(hub, did))
        run(did, url=url, token=token, as_json=as_json)
