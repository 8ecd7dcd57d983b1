"""`nightdesk agents ...`: add, list, re-password and deactivate the desk's people.

nightdesk agents add LOGIN --name "Anna Rossi" --role agent [--password-stdin]
nightdesk agents list
nightdesk agents password LOGIN [--password-stdin]
nightdesk agents deactivate LOGIN

Without --password-stdin a one-time password is made and printed once; hand it to the person.
Each change is in the audit log under the operating-system user who ran the command.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from bot.desk.agents import AgentDirectory, AgentError
from bot.desk.passwords import one_time_password
from bot.desk.roles import Role


def _directory() -> AgentDirectory:
    from bot.commands.context import command_services

    return AgentDirectory(command_services().engine)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _password(args: argparse.Namespace) -> tuple[str, bool]:
    """The password to set and whether it was made here (and must be shown)."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    return one_time_password(), True


def cmd_agents(args: argparse.Namespace) -> int:
    """Runs one `nightdesk agents` sub-command."""
    directory = _directory()
    try:
        if args.agents_command == "list":
            people = directory.all()
            if not people:
                print("No one on the desk yet: nightdesk agents add LOGIN --name NAME --role ROLE")
            for agent in people:
                state = "" if agent.active else "  (deactivated)"
                print(f"{agent.login:<20}{agent.role.value:<9}{agent.name}{state}")
            return 0
        if args.agents_command == "add":
            password, made = _password(args)
            agent = directory.add(args.login, args.name, args.role, password, by=_actor())
            print(f"Added {agent.name} ({agent.login}) as {agent.role.value}.")
        elif args.agents_command == "password":
            password, made = _password(args)
            directory.set_password(args.login, password, by=_actor())
            print(f"New password set for {args.login}.")
        else:
            directory.deactivate(args.login, by=_actor())
            print(f"{args.login} can no longer log in.")
            return 0
    except AgentError as error:
        print(f"nightdesk: {error}", file=sys.stderr)
        return 2
    if made:
        print(f"One-time password (shown once, hand it over privately): {password}")
    return 0


def add_agents_parser(sub: argparse._SubParsersAction) -> None:
    """Adds `agents` and its sub-commands to the `nightdesk` parser."""
    agents = sub.add_parser("agents", help="the desk's people: add, list, password, deactivate")
    agents_sub = agents.add_subparsers(dest="agents_command", required=True)
    add = agents_sub.add_parser("add", help="add an agent, trainer or admin")
    add.add_argument("login")
    add.add_argument("--name", required=True, help="full name; customers see the first name")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    password = agents_sub.add_parser("password", help="give someone a new password")
    password.add_argument("login")
    for command in (add, password):
        command.add_argument("--password-stdin", action="store_true",
                             help="read the password from the first line of standard input")
    agents_sub.add_parser("list", help="everyone on the desk")
    deactivate = agents_sub.add_parser("deactivate", help="stop someone from logging in")
    deactivate.add_argument("login")
    agents.set_defaults(func=cmd_agents)
