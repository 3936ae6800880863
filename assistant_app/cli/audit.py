"""`assistant audit`: the tool calls assistants made, and who allowed each."""

from __future__ import annotations

import argparse

from assistant_app.core.config import Config


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="the tool calls the assistant made, and who allowed them")
    p.add_argument(
        "--last", type=int, default=20, metavar="N", help="how many, newest last (default 20)"
    )


def run(args: argparse.Namespace, config: Config) -> int:
    from assistant_app.core.config import data_dir
    from assistant_app.security.audit import AUDIT_NAME, AuditLog, describe

    log = AuditLog(data_dir(config) / AUDIT_NAME)
    entries = log.entries(args.last)
    for entry in entries:
        print(describe(entry))
    if not entries:
        print(f"No tool calls logged yet ({log.path}).")
    return 0
