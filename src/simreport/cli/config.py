"""``simreport config``: the configuration a run would use."""

from __future__ import annotations

import click

from simreport.cli.shared import configure, guard, test_options
from simreport.config import to_toml


@click.command("config", short_help="Show the effective configuration (defaults, file, flags).")
@click.option("--show", is_flag=True, help="Print the effective configuration (the default; kept for old scripts).")
@test_options
@guard
def config_command(show: bool, **kw) -> None:
    """Show the configuration a run would use, as TOML: the defaults, overridden by
    ./simreport.toml or --config FILE, overridden by the flags given here."""
    config, _ = configure(kw)
    source = config.pop("sources")["config_file"]
    click.echo(f"# effective configuration; file: {source or 'none (defaults and flags only)'}")
    click.echo(to_toml(config), nl=False)
