"""The ``releasegate`` command."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from pydantic import ValidationError

# Only modules every image can import: the gateway and the HTTP stack (fastapi,
# uvicorn) are imported by the commands that use them, as the workers' images carry
# this CLI without them (tests/unit/test_cli_imports.py).
from releasegate.cli import credentials, identity, tokens
from releasegate.cli.loop import run
from releasegate.cli.serve import SERVICES


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="releasegate",
        description="Release pipeline: submission, review and deployer services behind a "
        "DataArts-compatible gateway.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    dev = sub.add_parser(
        "dev",
        help="run all four services in one process, in memory",
        description="Embedded mode: gateway, submission, review and deployer "
        "in one process with in-memory bus and store, and a demo tenant.",
    )
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=8000)
    dev.add_argument(
        "--credentials",
        type=Path,
        default=Path(".releasegate/dev-credentials.json"),
        help="where to write the demo users' credentials",
    )

    serve = sub.add_parser(
        "serve",
        help="run one service as its own process",
        description="Run one service against RabbitMQ and MongoDB. Configured by env: "
        "RELEASEGATE_AMQP_URL, RELEASEGATE_MONGODB_URL, RELEASEGATE_MONGODB_DB, "
        "RELEASEGATE_HTTP_PORT (gateway API, or the workers' health endpoints), "
        "RELEASEGATE_TOKEN_SECRET, RELEASEGATE_BUS_NAMESPACE, RELEASEGATE_LOG_LEVEL.",
    )
    serve.add_argument("service", choices=SERVICES)

    publish = sub.add_parser(
        "publish",
        help="publish an upstream event JSON file to the bus",
        description="Validate an upstream event (the message envelope as JSON) and publish "
        "it to RELEASEGATE_AMQP_URL under its type as routing key.",
    )
    publish.add_argument("file", type=Path)
    publish.add_argument("--project", help="project_id, if the file has none")
    publish.add_argument("--workspace", help="workspace_id, if the file has none")

    contracts = sub.add_parser(
        "contracts",
        help="print the message catalogue or write its JSON Schemas",
        description="The versioned message contracts, generated from the models.",
    )
    contracts.add_argument("--out", type=Path, help="write one JSON Schema file per contract")
    for module in (identity, tokens, credentials):
        module.add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _command(args)
    except ValidationError as exc:
        if not exc.title.endswith("Settings"):
            raise
        # A missing or refused setting is the operator's to fix: one line, no traceback.
        print(f"releasegate: {settings_error(exc)}", file=sys.stderr)
        return 2


def settings_error(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        message = error["msg"].removeprefix("Value error, ")
        # A field's error names its variable; a check of the whole names its own.
        name = f"RELEASEGATE_{str(error['loc'][0]).upper()}: " if error["loc"] else ""
        problems.append(name + message)
    return "configuration error: " + "; ".join(problems)


def _command(args: argparse.Namespace) -> int:
    if hasattr(args, "handler"):
        return int(args.handler(args))
    if args.command == "dev":
        from releasegate.cli.dev import run_dev

        run(run_dev(args.host, args.port, args.credentials))
    elif args.command == "serve":
        from releasegate.cli.serve import serve

        run(serve(args.service))
    elif args.command == "publish":
        import json

        from releasegate.cli.publish import publish_file

        body = json.loads(args.file.read_text())
        message_id = asyncio.run(publish_file(body, args.project, args.workspace))
        print(message_id)
    elif args.command == "contracts":
        from releasegate.cli.contracts import markdown_table, write_schemas

        if args.out:
            for path in write_schemas(args.out):
                print(path)
        else:
            print(markdown_table(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
