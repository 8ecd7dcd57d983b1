"""The `nightdesk` command's subcommands (faces over the domain, like the channels and the desk).

`bot/cli.py` is the command itself and adds each module's parser; every subcommand takes its
services from `bot.commands.context.command_services` (the composition root, built once per
command run).
"""
