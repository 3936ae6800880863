"""`assistant conversations ...`: list, search, export, rename and delete saved conversations."""

from __future__ import annotations

import argparse
from pathlib import Path

from assistant_app.core.config import Config


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("conversations", help="saved conversations: list, export, rename, delete")
    csub = p.add_subparsers(dest="conversations_command", required=True)
    listing = csub.add_parser("list", help="newest first")
    listing.add_argument("--search", default="", help="only those whose text contains this")
    export = csub.add_parser("export", help="a conversation as Markdown")
    export.add_argument("id", type=int)
    export.add_argument("-o", "--output", type=Path, help="file to write (default: print)")
    rename = csub.add_parser("rename", help="give a conversation a title")
    rename.add_argument("id", type=int)
    rename.add_argument("title")
    csub.add_parser("delete", help="delete a conversation").add_argument("id", type=int)


def run(args: argparse.Namespace, config: Config) -> int:
    from assistant_app.kernel.session import conversations

    store = conversations(config)
    command = args.conversations_command
    if command == "list":
        found = store.list(search=args.search)
        for info in found:
            when = info.updated_at.astimezone().strftime("%Y-%m-%d %H:%M")
            print(
                f"{info.id:5}  {when}  {info.message_count:4} msgs  {info.assistant:12} "
                f"{info.title}"
            )
        if not found:
            print("No conversations yet." if not args.search else "Nothing matches.")
        return 0
    if command == "export":
        text = store.export_markdown(args.id)
        if args.output:
            args.output.write_text(text, encoding="utf-8")
            print(args.output)
        else:
            print(text)
        return 0
    if command == "rename":
        store.rename(args.id, args.title)
        print(f"renamed {args.id}")
        return 0
    store.info(args.id)  # a clear error for an unknown id
    store.delete(args.id)
    print(f"deleted {args.id}")
    return 0
