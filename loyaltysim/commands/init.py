"""``loyaltysim init``: write a scenario to start from, asking a shop owner for their figures.

With a terminal and no ``--template``, it asks the questions of
:data:`loyaltysim.scenario.wizard.QUESTIONS` (each with its default shown) and writes the
café template with the answers, validated first. Without a terminal, with ``--template``
or with ``--no-input`` it writes the template as it is (the café's unless named).
"""

from __future__ import annotations

import sys
from dataclasses import fields, replace
from pathlib import Path

import click

from loyaltysim.commands.common import write_atomic
from loyaltysim.scenario.templates import init_text
from loyaltysim.scenario.wizard import QUESTIONS, ShopAnswers, wizard_text

DEFAULT_TEMPLATE = "cafe"


def has_terminal() -> bool:
    """Whether a person can answer questions (stdin and stdout are terminals)."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def ask() -> ShopAnswers:
    """The owner's answers, through click's prompts (defaults shown; a bad number re-asks)."""
    answers = ShopAnswers()
    kinds = {f.name: str(f.type) for f in fields(ShopAnswers)}
    types = {"str": click.STRING, "float": click.FloatRange(min=0), "int": click.IntRange(min=0)}
    click.echo("A few figures about your shop (Enter keeps the default in brackets):")
    for name, question in QUESTIONS:
        default = getattr(answers, name)
        value = click.prompt(
            question, default=default, type=types[kinds[name]], show_default=default != ""
        )
        answers = replace(answers, **{name: value})
    return answers


@click.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--template",
    "-t",
    default=None,
    metavar="NAME",
    help="Shipped scenario to start from (a file stem of scenarios/*.toml); asks no "
    f"questions. [default without a terminal: {DEFAULT_TEMPLATE}]",
)
@click.option("--no-input", "no_input", is_flag=True, help="Ask nothing; write the template.")
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
def init(path: Path, template: str | None, no_input: bool, force: bool) -> None:
    """Write a commented, valid scenario to start from.

    At a terminal, without --template, it asks a few figures about your shop (prices,
    costs, cash, customers) and writes them into the café template.
    """
    if path.exists() and not force:
        raise click.UsageError(f"{path} exists; pass --force to overwrite it")
    if template is None and not no_input and has_terminal():
        text = wizard_text(ask(), str(path))  # a ScenarioError is reported, exit 3
        how = "from your answers"
    else:
        template = template or DEFAULT_TEMPLATE
        try:
            text = init_text(template, str(path))
        except LookupError as exc:
            raise click.BadParameter(str(exc), param_hint="'--template'") from None
        how = f"template {template}"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text)
    click.echo(f"wrote {path} ({how}); check it with: loyaltysim validate {path}")
