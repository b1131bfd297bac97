"""The `telnyx-messages` command: one subcommand per operation, JSON on stdout, errors on stderr.

    telnyx-messages retrieve-group-messages --message-id 182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e
    telnyx-messages send --to +13125550002 --from +18445550001 --text "Hello"

Options come from the generated code (path parameters, request body Params), not from a list here.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import types
import typing
from collections.abc import Sequence
from typing import Any

from . import _operations
from ._client import Telnyx
from ._exceptions import TelnyxError
from ._request_building import hints


def _option(name: str) -> str:
    return "--" + name.rstrip("_").replace("_", "-")


def _add_body_option(parser: argparse.ArgumentParser, name: str, hint: Any, required: bool) -> None:
    args = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    flag, dest = _option(name), name
    if bool in args:
        parser.add_argument(flag, dest=dest, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS)
    elif any(typing.get_origin(a) is list for a in args):
        parser.add_argument(flag, dest=dest, nargs="+", required=required, default=argparse.SUPPRESS)
    elif datetime.datetime in args:
        parser.add_argument(
            flag, dest=dest, type=datetime.datetime.fromisoformat, required=required, default=argparse.SUPPRESS
        )
    elif int in args:
        parser.add_argument(flag, dest=dest, type=int, required=required, default=argparse.SUPPRESS)
    else:
        parser.add_argument(flag, dest=dest, required=required, default=argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="telnyx-messages", description="Call the Telnyx Messages API.")
    parser.add_argument("--api-key", help="default: $TELNYX_API_KEY")
    parser.add_argument("--base-url", help="default: $TELNYX_BASE_URL, then https://api.telnyx.com/v2")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for method, operation_id in _operations.METHODS.items():
        operation: types.ModuleType = getattr(_operations, operation_id)
        sub = commands.add_parser(method.replace("_", "-"), help=f"{operation.METHOD} {operation.PATH}")
        for name in operation.PATH_PARAMETERS:
            sub.add_argument(_option(name), dest=name, required=True)
        if hasattr(operation, "Params"):
            sub.add_argument("--idempotency-key", default=None)
            required = operation.Params.__required_keys__
            for name, hint in hints(operation.Params).items():
                _add_body_option(sub, name, hint, name in required)
        sub.set_defaults(method=method, operation=operation)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = vars(build_parser().parse_args(argv))
    method, operation = args.pop("method"), args.pop("operation")
    api_key, base_url = args.pop("api_key"), args.pop("base_url")
    args.pop("command")
    try:
        with Telnyx(api_key=api_key, base_url=base_url) as client:
            positional = [args.pop(name) for name in operation.PATH_PARAMETERS]
            result = getattr(client.messages, method)(*positional, **args)
    except (TelnyxError, ValueError, TypeError) as exc:
        print(f"telnyx-messages: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    json.dump(result.to_dict(), sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
