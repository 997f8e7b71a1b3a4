"""``trialdesk synth ...``: synthetic data for tests, demos and benchmarks."""

from __future__ import annotations

import json
import time

import click


@click.group("synth")
def synth() -> None:
    """Generate synthetic data (never real patients or real trials)."""


@synth.command("registry")
@click.argument("n", type=click.IntRange(min=0, max=10_000_000))
@click.argument("out_dir", type=click.Path(file_okay=False, writable=True))
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same records.")
@click.option(
    "--page-size", type=click.IntRange(min=1), default=1000, show_default=True,
    help="Studies per page file.",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def registry(n: int, out_dir: str, seed: int, page_size: int, as_json: bool) -> None:
    """Write N synthetic ClinicalTrials.gov API v2 studies to OUT_DIR as API pages
    (page-00001.json, ... each {"studies": [...], "totalCount": N}); NCT ids NCT9xxxxxxx."""
    from trialdesk.interop.synthetic import write_pages

    started = time.perf_counter()
    try:
        paths = write_pages(n, out_dir, seed=seed, page_size=page_size)
    except OSError as exc:
        raise click.ClickException(
            f"{out_dir}: cannot write pages: {exc.strerror or exc}"
        ) from None
    seconds = time.perf_counter() - started
    result = {
        "records": n,
        "pages": len(paths),
        "out_dir": out_dir,
        "seed": seed,
        "seconds": round(seconds, 3),
        "records_per_second": round(n / seconds) if seconds > 0 else None,
    }
    if as_json:
        click.echo(json.dumps(result))
    else:
        click.echo(
            f"wrote {n} synthetic studies in {len(paths)} page file(s) to {out_dir} "
            f"({seconds:.1f} s, seed {seed})"
        )


COMMANDS = [synth]
