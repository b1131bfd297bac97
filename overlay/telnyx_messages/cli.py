"""The `telnyx-messages` command: one subcommand per method, JSON on stdout, errors on stderr.

    telnyx-messages retrieve-group-messages --message-id 182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e
    telnyx-messages send --to +13125550002 --from +18445550001 --text "Hello" --api-key KEY
    telnyx-messages rcs-send --agent-id Agent --to +13125550002 --body @message.json
    telnyx-messages webhooks verify --public-key KEY --timestamp T --signature S < body.json
    telnyx-messages campaign send rows.csv --journal run.db --from +18445550001 --text "Hi {name}"

Subcommands, options, their help, choices and formats are read off the generated methods
(telnyx_messages._api.api): signatures, types and docstrings; nothing per operation is written here.
"""

from __future__ import annotations

import argparse
import base64
import inspect
import json
import os
import re
import sys
import types
import typing
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from telnyx_messages._api.api import METHODS, OPERATIONS, Messages
from telnyx_messages._api.types import UUID, IsoDateTime

from . import _campaign_cli
from ._client import Telnyx
from ._exceptions import TelnyxError, escape_controls
from ._request_building import IDEMPOTENCY_KEY, signature_of
from ._version import __version__

EXIT_OK, EXIT_API_ERROR, EXIT_USAGE, EXIT_REFUSED = 0, 1, 2, 3
EPILOG = (
    "exit codes: 0 success; 1 the API or the network failed (status, connection, timeout); "
    "2 usage (an unknown or missing option); 3 input refused before anything was sent"
)
# The per-call options of every method that the command line gives its own way (--header, --body).
_CALL_OPTIONS = frozenset({"extra_headers", "extra_query", "extra_body", "timeout", "max_retries"})
# Where argparse puts a path parameter given by position (the option's own dest is its name).
_POSITIONAL = "positional "
_EXAMPLES = {"date-time": "2026-12-01T09:00:00Z", "uuid": "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e"}


def _option(name: str) -> str:
    return "--" + name.rstrip("_").replace("_", "-")


def _metavar(name: str) -> str:
    """What an argument's value is called in the usage line (a path parameter's position too)."""
    return name.rstrip("_").upper()


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


def command_name(path: str) -> str:
    return path.replace(".", "-").replace("_", "-")


def _argument_docs(doc: str) -> dict[str, str]:
    """Each argument's text from the `Args:` section the template writes into every docstring."""
    docs: dict[str, str] = {}
    section = doc.partition("\nArgs:\n")[2]
    for match in re.finditer(r"^    (\w+): (.*?)(?=^    \w+: |\Z)", section, re.M | re.S):
        docs[match.group(1)] = " ".join(match.group(2).split())
    return docs


def _add_global_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """The options every command takes, before or after its name (after it, they win)."""
    default = None if top else argparse.SUPPRESS
    parser.add_argument("--api-key", default=default, help="default: $TELNYX_API_KEY")
    parser.add_argument("--base-url", default=default, help="default: $TELNYX_BASE_URL, then https://api.telnyx.com/v2")
    parser.add_argument("--timeout", type=float, default=default, help="seconds for each attempt (default 60)")
    parser.add_argument("--max-retries", type=int, default=default, help="attempts after the first (default 2)")
    parser.add_argument(
        "--header",
        action="append",
        default=[] if top else argparse.SUPPRESS,
        metavar="'NAME: VALUE'",
        help="a header to send besides the client's; repeatable",
    )
    parser.add_argument(
        "--allow-insecure-http",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="allow a plain http:// base URL to a host that is not this machine",
    )
    parser.add_argument(
        "--output",
        choices=["json", "table"],
        default="json" if top else argparse.SUPPRESS,
        help="json (default), or a table: a row per message of a list result, a row per field of one object",
    )


def _add_option(parser: argparse._ActionsContainer, name: str, hint: Any, required: bool, text: str) -> None:
    members = _members(hint)
    flags = [_option(name)]
    kwargs: dict[str, Any] = {"dest": name, "default": argparse.SUPPRESS, "metavar": _metavar(name)}
    help_text = text if not required or text.endswith("Required.") else f"{text} Required."
    literals = [v for m in members if typing.get_origin(m) is typing.Literal for v in typing.get_args(m)]
    if bool in members:
        kwargs["action"] = argparse.BooleanOptionalAction
        del kwargs["metavar"]
    elif any(typing.get_origin(m) is list for m in members):
        if name.endswith("s"):
            flags.append(_option(name[:-1]))  # --media-url beside --media-urls
        kwargs.update(action="extend", nargs="+", metavar="VALUE")
        help_text += " Repeatable."
    elif any(typing.is_typeddict(m) for m in members):
        kwargs.update(type=json.loads, metavar="JSON")
    elif literals:
        kwargs["choices"] = literals
        del kwargs["metavar"]
    elif int in members:
        kwargs["type"] = int
    elif IsoDateTime in members:
        kwargs["metavar"] = _EXAMPLES["date-time"]
    elif UUID in members:
        kwargs["metavar"] = "UUID"
    # Required options may come from --body instead: checked after merging, like the method does.
    action = parser.add_argument(*flags, help=_as_help(help_text), **kwargs)
    action.shown_required = required  # type: ignore[attr-defined]  # read by _Formatter


def _add_made_key_options(parser: argparse.ArgumentParser, name: str, hint: Any, text: str, header: str) -> None:
    """A header whose key the client makes when none is given (Idempotency-Key): its option, and
    beside it, exclusive of it, `--no-...`, which sends none (the method's None)."""
    no_key = "--no-" + _option(name).removeprefix("--")
    spec_text = text.partition(" Not given: ")[0]
    group = parser.add_mutually_exclusive_group()
    _add_option(
        group,
        name,
        hint,
        False,
        f"{spec_text} Without this option a UUID4 key is made for the call; {no_key} sends none.",
    )
    group.add_argument(
        no_key,
        dest=name,
        action="store_const",
        const=None,
        default=argparse.SUPPRESS,
        help=_as_help(f"send no {header} header (a failure after the request was sent is then not retried)"),
    )


def _as_help(text: str) -> str:
    """Text for a help= (an option's, a command's in the list), shown as written: argparse
    %-formats every help string."""
    return text.replace("%", "%%")


def _as_description(text: str) -> str:
    """Text for a description=, shown as written: argparse %-formats a description only when it
    holds '%(prog)'."""
    return _as_help(text) if "%(prog)" in text else text


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Usage shows the options a method requires without brackets, though argparse does not enforce
    them (they may come from --body instead; the command checks after merging)."""

    def _format_usage(self, usage: Any, actions: Any, groups: Any, prefix: Any) -> str:
        shown = [a for a in actions if getattr(a, "shown_required", False)]
        for action in shown:
            action.required = True
        try:
            return super()._format_usage(usage, actions, groups, prefix)
        finally:
            for action in shown:
                action.required = False


class _Parser(argparse.ArgumentParser):
    """argparse (its sub-commands' parsers too), except that no option may be abbreviated (`--from`
    must not stand for some longer option a later spec adds), and a word given where the command
    belongs is not quoted back: after a mistyped option (`--api KEY`), that word is the API key."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> typing.NoReturn:
        super().error(re.sub(r"(argument COMMAND: invalid choice): '[^']*'", r"\1", message))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="telnyx-messages", description="Call the Telnyx Messages API.", epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"telnyx-messages {__version__}")
    _add_global_options(parser, top=True)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for path, method in methods():
        doc = inspect.getdoc(method) or path
        summary = doc.splitlines()[0]
        description = doc.partition("\nArgs:\n")[0]
        sub = commands.add_parser(
            command_name(path),
            help=_as_help(summary),
            description=_as_description(description),
            epilog=EPILOG,
            formatter_class=_Formatter,
        )
        _add_global_options(sub, top=False)
        docs = _argument_docs(doc)
        signature = signature_of(method)
        made_keys = {p.argument: p.header for p in OPERATIONS[path].header_parameters if p.argument == IDEMPOTENCY_KEY}
        for name, parameter in inspect.signature(method).parameters.items():
            if name == "self" or name in _CALL_OPTIONS:
                continue
            required = parameter.default is inspect.Parameter.empty
            if parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD:  # a path parameter: also by position
                sub.add_argument(
                    _POSITIONAL + name,
                    nargs="?",
                    default=argparse.SUPPRESS,
                    metavar=_metavar(name),
                    help=_as_help(f"the same as {_option(name)}"),
                )
                _add_option(sub, name, signature.hints[name], False, docs.get(name, "") + " Required (or by position).")
                continue
            if name in made_keys:
                _add_made_key_options(sub, name, signature.hints[name], docs.get(name, ""), made_keys[name])
                continue
            _add_option(sub, name, signature.hints[name], required, docs.get(name, ""))
        if _body_fields(path):
            sub.add_argument(
                "--body",
                metavar="@FILE|-",
                help="the JSON body, from a file (@file.json) or standard input (-); options given beside it win",
            )
        sub.set_defaults(method=path)
    webhooks = commands.add_parser("webhooks", help="verify a signed webhook").add_subparsers(
        required=True, metavar="COMMAND"
    )
    verify = webhooks.add_parser("verify", help="verify a webhook read from standard input; print its event")
    verify.add_argument("--public-key", help="base64 of the raw 32-byte key; default: $TELNYX_PUBLIC_KEY")
    verify.add_argument("--timestamp", required=True, help="the telnyx-timestamp header")
    verify.add_argument("--signature", required=True, help="the telnyx-signature-ed25519 header")
    verify.add_argument("--tolerance", type=int, default=300, help="seconds either way (default 300)")
    _campaign_cli.add_commands(commands)
    return parser


def _body_fields(path: str) -> list[tuple[str, str]]:
    """The body fields a method sends, as (argument, wire name)."""
    operation = OPERATIONS[path]
    return list(operation.body_parameters) if operation.has_body else []


def _read_body(source: str) -> dict[str, Any]:
    where = "standard input" if source == "-" else source.removeprefix("@")
    try:
        text = sys.stdin.read() if source == "-" else Path(where).read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"--body: cannot read {where}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"--body: {where} is not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"--body: {where} is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise ValueError("--body must be a JSON object")
    return document


def _headers(values: list[str]) -> dict[str, str]:
    headers = {}
    for value in values:
        name, colon, text = value.partition(":")
        if not colon or not name.strip():
            raise ValueError(f"--header takes 'Name: value', got {value!r}")
        headers[name.strip()] = text.strip()
    return headers


def _fields_table(document: dict[str, Any]) -> str:
    """One object as two columns, field and value (a nested value as compact JSON)."""
    cells = [
        (escape_controls(name), escape_controls(value if isinstance(value, str) else json.dumps(value)))
        for name, value in document.items()
    ]
    width = max([len("field")] + [len(name) for name, _ in cells])
    return "\n".join([f"{'field'.ljust(width)}  value"] + [f"{name.ljust(width)}  {value}" for name, value in cells])


def _table(result: Any) -> str:
    """A list result (a group's messages) as a row per message; one object (a message, a deep link)
    as a row per field."""
    rows = result.data if isinstance(getattr(result, "data", None), list) else None
    if rows is None:
        document = result.to_dict(mode="json")
        data = document.get("data") if isinstance(document, dict) else None
        return _fields_table(data if isinstance(data, dict) else document)
    columns = ["id", "direction", "type", "from", "to", "text"]
    cells = []
    for row in rows:
        document = row.to_dict(mode="json")
        sender = document.get("from")
        recipients = document.get("to")
        values = {
            **document,
            "from": sender.get("phone_number") if isinstance(sender, dict) else sender,
            "to": ",".join(r.get("phone_number", "") for r in recipients) if isinstance(recipients, list) else "",
        }
        cells.append([escape_controls(str(values.get(c) or "")) for c in columns])
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)


def _missing(path: str, parameters: typing.Mapping[str, inspect.Parameter], missing: list[str]) -> str:
    """The required arguments not given, as the command line takes them: a path parameter by its
    position (named as in the usage line) or its option; a body field by its option or in --body."""
    in_body = {name for name, _ in _body_fields(path)}
    positional = [n for n in missing if parameters[n].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    parts = [f"{_metavar(n)} (or {_option(n)})" for n in positional]
    parts += [_option(n) for n in missing if n not in positional and n not in in_body]
    body = [_option(n) for n in missing if n in in_body]
    if body:
        parts.append(", ".join(body) + f" (or give {'them' if len(body) > 1 else 'it'} in --body)")
    return ", ".join(parts)


def _error(message: str, code: int) -> int:
    print(f"telnyx-messages: {message}", file=sys.stderr)
    return code


def _in_cli_terms(message: str) -> str:
    """The client's advice, in the options of this command."""
    return message.replace("pass api_key=", "pass --api-key").replace(
        "pass allow_insecure_http=True", "pass --allow-insecure-http"
    )


def _public_key(given: str | None) -> str:
    """The webhook public key from --public-key, else TELNYX_PUBLIC_KEY; ValueError naming where
    it came from, if absent or not base64 of 32 bytes (an Ed25519 key)."""
    source, key = (
        ("--public-key", given) if given is not None else ("TELNYX_PUBLIC_KEY", os.environ.get("TELNYX_PUBLIC_KEY"))
    )
    if not key:
        raise ValueError("no public key: pass --public-key or set TELNYX_PUBLIC_KEY")
    try:
        size = len(base64.b64decode(key, validate=True))
    except ValueError:  # binascii.Error, or a str that is not ASCII
        raise ValueError(f"{source} must be base64 of the 32-byte public key; it is not base64") from None
    if size != 32:
        raise ValueError(f"{source} must be base64 of the 32-byte public key; it is {size} bytes")
    return key


def _verify_webhook(args: dict[str, Any]) -> int:
    from . import webhooks

    try:
        key = _public_key(args["public_key"])
    except ValueError as exc:
        return _error(f"webhooks verify: {exc}", EXIT_REFUSED)
    body = sys.stdin.buffer.read()
    headers = {webhooks.TIMESTAMP_HEADER: args["timestamp"], webhooks.SIGNATURE_HEADER: args["signature"]}
    try:
        event = webhooks.verify(body, headers, key=key, tolerance=args["tolerance"])
    except (webhooks.WebhookVerificationError, webhooks.MissingDependencyError) as exc:
        return _error(f"{type(exc).__name__}: {exc}", EXIT_API_ERROR)
    except ValueError as exc:  # a negative --tolerance
        return _error(f"{type(exc).__name__}: {exc}", EXIT_REFUSED)
    _write(json.dumps(event, indent=2) + "\n")
    return EXIT_OK


def _stdout_to_devnull() -> None:
    """What is still to go to standard output goes nowhere: its reader has closed the pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _write(text: str) -> None:
    """`text` on standard output; dropped once its reader has closed the pipe (`| head -1`)."""
    try:
        sys.stdout.write(text)
    except BrokenPipeError:
        _stdout_to_devnull()


def main(argv: Sequence[str] | None = None) -> int:
    """The command's exit code. A reader that closes standard output early (`| head -1`) ends the
    output quietly, as for other Unix tools, and the code stays the call's (0 when it succeeded),
    whenever the reader stopped: not 141, which would tell a script that a sent message failed."""
    try:
        return _run(argv)
    finally:
        try:
            sys.stdout.flush()  # here, not at exit, where a closed pipe would print a traceback
        except BrokenPipeError:
            _stdout_to_devnull()


def _run(argv: Sequence[str] | None) -> int:
    args = vars(build_parser().parse_args(argv))
    command = args.pop("command")
    if command == "webhooks":
        return _verify_webhook(args)
    if command == "campaign":
        return _campaign_cli.run(args)
    path = args.pop("method")
    options = {name: args.pop(name) for name in ("api_key", "base_url", "timeout", "max_retries")}
    allow_insecure_http, output = args.pop("allow_insecure_http"), args.pop("output")
    method = _resolve(path)
    parameters = inspect.signature(method).parameters
    try:
        for name in [key for key in args if key.startswith(_POSITIONAL)]:
            value, argument = args.pop(name), name.removeprefix(_POSITIONAL)
            if argument in args and args[argument] != value:
                raise ValueError(f"{value!r} by position and {_option(argument)} {args[argument]!r}: give one")
            args[argument] = value
        headers = _headers(args.pop("header"))
        body = args.pop("body", None)
        if body is not None:
            to_argument = {wire: name for name, wire in _body_fields(path)}
            document = _read_body(body)
            if unknown := sorted(set(document) - set(to_argument)):
                raise ValueError(f"--body has fields the operation does not take: {', '.join(unknown)}")
            args = {to_argument[wire]: value for wire, value in document.items()} | args
        missing = [n for n, p in parameters.items() if p.default is p.empty and n != "self" and n not in args]
        if missing:
            return _error(f"{command_name(path)}: missing {_missing(path, parameters, missing)}", EXIT_USAGE)
        positional = [args.pop(n) for n, p in parameters.items() if p.kind is p.POSITIONAL_OR_KEYWORD and n != "self"]
        call_options = {"extra_headers": headers or None}
        if options["timeout"] is not None:
            call_options["timeout"] = options["timeout"]
        if options["max_retries"] is not None:
            call_options["max_retries"] = options["max_retries"]
        with Telnyx(
            api_key=options["api_key"], base_url=options["base_url"], allow_insecure_http=allow_insecure_http
        ) as client:
            resource: Any = client.messages
            for part in path.split(".")[:-1]:
                resource = getattr(resource, part)
            result = getattr(resource, path.split(".")[-1])(*positional, **args, **call_options)
    except TelnyxError as exc:
        code = EXIT_REFUSED if "No API key" in str(exc) else EXIT_API_ERROR
        return _error(f"{type(exc).__name__}: {_in_cli_terms(str(exc))}", code)
    except (ValueError, TypeError, OSError) as exc:
        return _error(f"{type(exc).__name__}: {_in_cli_terms(str(exc))}", EXIT_REFUSED)
    _write((json.dumps(result.to_dict(mode="json"), indent=2) if output == "json" else _table(result)) + "\n")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
