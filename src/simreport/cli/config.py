"""``simreport config --show``: the configuration a run would use."""

from __future__ import annotations

import click

from simreport.cli.shared import UsageProblem, configure, guard, test_options
from simreport.config import to_toml


@click.command("config")
@click.option("--show", is_flag=True, help="Print the effective configuration as TOML.")
@test_options
@guard
def config_command(show: bool, **kw) -> None:
    """Show the configuration a run would use (defaults < simreport.toml or --config < flags)."""

    config, _ = configure(kw)
    source = config.pop("sources")["config_file"]
    if not show:
        raise UsageProblem("use 'simreport config --show' to print the effective configuration")
    click.echo(f"# effective configuration; file: {source or 'none (defaults and flags only)'}")
    click.echo(to_toml(config), nl=False)
