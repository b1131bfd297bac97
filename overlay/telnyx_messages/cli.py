"""The `telnyx-messages` command: one subcommand per method, JSON on stdout, errors on stderr.

    telnyx-messages retrieve-group-messages --message-id 182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e
    telnyx-messages send --to +13125550002 --from +18445550001 --text "Hello"
    telnyx-messages rcs-send --agent-id Agent --to +13125550002 --agent-message '{"content_message": {"text": "hi"}}'

Subcommands and options are read off the generated methods (telnyx_messages_api.api): their
signatures, types and docstrings; nothing per operation is written here.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import types
import typing
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from telnyx_messages_api.api import METHODS, Messages

from ._client import Telnyx
from ._exceptions import TelnyxError
from ._request_building import signature_of

# The per-call options every method takes; the CLI gives the ones a command line needs.
_CALL_OPTIONS = frozenset({"extra_headers", "extra_query", "extra_body", "timeout", "max_retries"})


def _option(name: str) -> str:
    return "--" + name.rstrip("_").replace("_", "-")


def _members(hint: Any) -> tuple[Any, ...]:
    return typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)


def _resolve(path: str) -> Callable[..., Any]:
    """The unbound method at `path` ("send", "rcs.send"), from the resource classes."""
    owner: Any = Messages
    *resources, name = path.split(".")
    for resource in resources:
        owner = typing.get_type_hints(getattr(owner, resource).func)["return"]
    method: Callable[..., Any] = getattr(owner, name)
    return method


def methods() -> Iterator[tuple[str, Callable[..., Any]]]:
    for path in sorted(METHODS.values()):
        yield path, _resolve(path)


def _add_option(parser: argparse.ArgumentParser, name: str, hint: Any, required: bool) -> None:
    members = _members(hint)
    flag = _option(name)
    literals = [value for m in members if typing.get_origin(m) is typing.Literal for value in typing.get_args(m)]
    if bool in members:
        parser.add_argument(flag, dest=name, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS)
    elif any(typing.get_origin(m) is list for m in members):
        parser.add_argument(flag, dest=name, nargs="+", required=required, default=argparse.SUPPRESS)
    elif any(typing.is_typeddict(m) for m in members):
        parser.add_argument(flag, dest=name, type=json.loads, required=required, default=argparse.SUPPRESS)
    elif int in members:
        parser.add_argument(flag, dest=name, type=int, required=required, default=argparse.SUPPRESS)
    elif literals:
        parser.add_argument(flag, dest=name, choices=literals, required=required, default=argparse.SUPPRESS)
    else:
        parser.add_argument(flag, dest=name, required=required, default=argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="telnyx-messages", description="Call the Telnyx Messages API.")
    parser.add_argument("--api-key", help="default: $TELNYX_API_KEY")
    parser.add_argument("--base-url", help="default: $TELNYX_BASE_URL, then https://api.telnyx.com/v2")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for path, method in methods():
        summary = (inspect.getdoc(method) or path).splitlines()[0]
        sub = commands.add_parser(path.replace(".", "-").replace("_", "-"), help=summary, description=summary)
        signature = signature_of(method)
        for name, parameter in inspect.signature(method).parameters.items():
            if name == "self" or name in _CALL_OPTIONS:
                continue
            _add_option(sub, name, signature.hints[name], parameter.default is inspect.Parameter.empty)
        sub.set_defaults(method=path)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = vars(build_parser().parse_args(argv))
    path = args.pop("method")
    api_key, base_url = args.pop("api_key"), args.pop("base_url")
    args.pop("command")
    method = _resolve(path)
    positional = [
        args.pop(name)
        for name, p in inspect.signature(method).parameters.items()
        if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD and name != "self"
    ]
    try:
        with Telnyx(api_key=api_key, base_url=base_url) as client:
            resource: Any = client.messages
            for part in path.split(".")[:-1]:
                resource = getattr(resource, part)
            result = getattr(resource, path.split(".")[-1])(*positional, **args)
    except (TelnyxError, ValueError, TypeError) as exc:
        print(f"telnyx-messages: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    json.dump(result.to_dict(), sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
