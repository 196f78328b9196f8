"""`yuqing users`: dashboard accounts (add, list, passwd, role)."""

from __future__ import annotations

import os

import click

from yuqing.commands.common import CliState, UserError, pass_state, print_json

PASSWORD_ENV = "YUQING_PASSWORD"


def _accounts(state: CliState):
    from dashboard.auth import Accounts
    from yuqing.services import records_for

    return Accounts(records_for(state.config()))


def _password() -> str:
    """From YUQING_PASSWORD, else asked twice on the terminal."""
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@click.group()
def users() -> None:
    """Dashboard accounts: viewer (reads), officer (labels, cases, exports, reports), admin."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["viewer", "officer", "admin"]), required=True)
@pass_state
def add(state: CliState, name: str, role: str) -> None:
    """Add an account; the password comes from YUQING_PASSWORD or a prompt."""
    accounts = _accounts(state)
    try:
        accounts.add(name, role, _password())
    except ValueError as e:
        raise UserError(str(e)) from e
    click.echo(f"Added {name} ({role}).")


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def list_users(state: CliState, as_json: bool) -> None:
    """List the accounts (never their password hashes)."""
    found = _accounts(state).list()
    if as_json:
        print_json(found)
        return
    for u in found:
        click.echo(f"{u['name']}\t{u['role']}\tcreated {u.get('created_at', '')[:16]}")
    if not found:
        click.echo("No accounts. Add one: yuqing users add NAME --role admin")


@users.command("passwd")
@click.argument("name")
@pass_state
def passwd(state: CliState, name: str) -> None:
    """Set an account's password (from YUQING_PASSWORD or a prompt)."""
    accounts = _accounts(state)
    if accounts.get(name) is None:
        raise UserError(f"no user {name!r}; add one with `yuqing users add {name} --role R`")
    try:
        accounts.set_password(name, _password())
    except ValueError as e:
        raise UserError(str(e)) from e
    click.echo(f"Password of {name} changed.")


@users.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(["viewer", "officer", "admin"]))
@pass_state
def role(state: CliState, name: str, role: str) -> None:
    """Change an account's role."""
    from dashboard.auth import User

    try:
        _accounts(state).set_role(User("cli", "admin"), name, role)
    except KeyError as e:
        raise UserError(f"no user {name!r}") from e
    click.echo(f"{name} is now a {role}.")


COMMANDS = (users,)
