"""``releasegate credentials add|list|disable``: AK/SK pairs for the official SDKs. The
SK is printed once and stored sealed with ``RELEASEGATE_CREDENTIALS_KEY``."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from releasegate.cli.identity import CliError
from releasegate.cli.infra import mongo_database
from releasegate.shared.clock import SystemClock
from releasegate.shared.credentials import CredentialStore
from releasegate.shared.identity import IdentityStore
from releasegate.shared.store.base import Database


def add_parsers(sub: Any) -> None:
    creds = sub.add_parser("credentials", help="AK/SK pairs for the official SDKs")
    csub = creds.add_subparsers(dest="action", required=True)
    add = csub.add_parser("add", help="issue a pair for a user (the SK is shown once)")
    add.add_argument("--user", required=True)
    add.set_defaults(handler=lambda a: _run(issue, a))
    listing = csub.add_parser("list", help="a user's active access keys")
    listing.add_argument("--user", required=True)
    listing.set_defaults(handler=lambda a: _run(list_keys, a))
    disable = csub.add_parser("disable", help="disable an access key")
    disable.add_argument("access_key")
    disable.set_defaults(handler=lambda a: _run(disable_key, a))


def _run(command: Any, args: argparse.Namespace) -> int:
    # Imported here: the workers' images carry this CLI but not the gateway package.
    try:
        from releasegate.cli.credential_settings import CredentialSettings
        from releasegate.gateway.settings import credential_store
    except ModuleNotFoundError as exc:
        raise CliError(
            f"the credentials commands need the gateway installed ({exc}); run them "
            "in the gateway's image"
        ) from exc

    settings = CredentialSettings()

    async def go() -> str:
        db = mongo_database(settings)
        try:
            result: str = await command(db, credential_store(settings, db), args)
            return result
        finally:
            await db.close()

    print(asyncio.run(go()))
    return 0


async def issue(db: Database, store: CredentialStore, args: argparse.Namespace) -> str:
    user = await IdentityStore(db).get_user(args.user)
    if user is None:
        raise CliError(f"no user {args.user!r}")
    pair = await store.issue(user.user_id, SystemClock().now_ms())
    return json.dumps({"user_id": pair.user_id, "ak": pair.access_key, "sk": pair.secret_key})


async def list_keys(db: Database, store: CredentialStore, args: argparse.Namespace) -> str:
    return "\n".join(await store.access_keys_of(args.user))


async def disable_key(db: Database, store: CredentialStore, args: argparse.Namespace) -> str:
    if not await store.disable(args.access_key):
        raise CliError(f"no active access key {args.access_key!r}")
    return f"disabled {args.access_key}"
