"""`assistant assistants ...`: create, list, show, switch and delete custom assistants."""

from __future__ import annotations

import argparse
from pathlib import Path

from assistant_app.core.config import Config
from assistant_app.core.errors import UserVisibleError
from assistant_app.storage.profiles import Profile, profiles_for


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("assistants", help="custom assistants: instructions, knowledge, tools")
    asub = p.add_subparsers(dest="assistants_command", required=True)
    asub.add_parser("list", help="every custom assistant; * marks the current one")
    create = asub.add_parser("create", help="make (or replace) an assistant")
    create.add_argument("name")
    create.add_argument("--instructions", default="", help="what it is told before every chat")
    create.add_argument(
        "--folder",
        action="append",
        default=[],
        type=Path,
        help="a knowledge folder it may search (repeatable)",
    )
    create.add_argument("--voice", default="", help="a [tts] engine: hibari, piper, espeak-ng")
    create.add_argument(
        "--tool",
        action="append",
        default=[],
        metavar="NAME=PERMISSION",
        help="allow, ask or deny a tool, e.g. calculator=deny (repeatable)",
    )
    for command, text in (
        ("show", "print an assistant"),
        ("delete", "delete an assistant"),
        ("use", "start new chats with this assistant"),
    ):
        asub.add_parser(command, help=text).add_argument("name")


def run(args: argparse.Namespace, config: Config) -> int:
    profiles = profiles_for(config)
    command = args.assistants_command
    if command == "list":
        current = profiles.current()
        for name in dict.fromkeys(["default", *profiles.names()]):  # "default" may be saved
            print(f"{'*' if name == current else ' '} {name}")
        return 0
    if command == "create":
        tools = {}
        for item in args.tool:
            name, _, permission = item.partition("=")
            if not permission:
                raise UserVisibleError(f"--tool {item}: write NAME=allow, NAME=ask or NAME=deny.")
            tools[name.strip()] = permission.strip()
        for folder in args.folder:
            if not folder.is_dir():
                raise UserVisibleError(f"{folder} is not a folder.")
        profile = Profile(
            args.name,
            args.instructions,
            tuple(str(f.resolve()) for f in args.folder),
            args.voice,
            tools,
        )
        print(f"saved {profiles.save(profile)}")
        return 0
    if command == "show":
        profile = profiles.load(args.name)
        print(f"name: {profile.name}\ninstructions: {profile.instructions or '(none)'}")
        print(f"knowledge folders: {', '.join(profile.knowledge_folders) or '(none)'}")
        print(f"voice: {profile.voice or '(the configured one)'}")
        rules = ", ".join(f"{t}={p}" for t, p in profile.tools.items())
        print(f"tools: {rules or '(defaults)'}")
        return 0
    if command == "delete":
        profiles.delete(args.name)
        print(f"deleted {args.name}")
        return 0
    profiles.use(args.name)
    print(f"new chats start with {args.name}")
    return 0
