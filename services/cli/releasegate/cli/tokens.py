"""``releasegate token mint --user U``: an X-Auth-Token for an existing user (HS256 with
``RELEASEGATE_TOKEN_SECRET``, or RS256/ES256 with ``--private-key`` and ``--kid``)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from releasegate.cli.identity import CliError
from releasegate.cli.infra import mongo_database
from releasegate.shared.config import CommonSettings
from releasegate.shared.identity import IdentityStore
from releasegate.shared.store.base import Database
from releasegate.shared.tokens import mint_token


def add_parsers(sub: Any) -> None:
    token = sub.add_parser("token", help="X-Auth-Tokens")
    tsub = token.add_subparsers(dest="action", required=True)
    mint = tsub.add_parser("mint", help="print a signed token for a user")
    mint.add_argument("--user", required=True, help="user id (must exist)")
    mint.add_argument("--ttl", type=int, default=12 * 3600, help="seconds (default 12 h)")
    mint.add_argument("--private-key", type=Path, help="PEM (RSA: RS256, EC P-256: ES256)")
    mint.add_argument("--kid", help="the key id the gateway's JWKS file names it by")
    mint.set_defaults(handler=run_mint)


def run_mint(args: argparse.Namespace) -> int:
    # RS256/ES256 tokens are signed with --private-key, not RELEASEGATE_TOKEN_SECRET:
    # dev mode lifts only the check of that secret's placeholder, unused then.
    settings = CommonSettings(dev_mode=True) if args.private_key else CommonSettings()

    async def go() -> str:
        db = mongo_database(settings)
        try:
            return await mint_for(db, settings, args)
        finally:
            await db.close()

    print(asyncio.run(go()))
    return 0


async def mint_for(db: Database, settings: CommonSettings, args: argparse.Namespace) -> str:
    user = await IdentityStore(db).get_user(args.user)
    if user is None or user.disabled:
        raise CliError(f"no active user {args.user!r}")
    if args.private_key is not None and not args.kid:
        raise CliError("--private-key needs --kid")
    return mint_token(
        user.user_id,
        secret=settings.token_secret,
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        ttl_s=args.ttl,
        private_key=args.private_key.read_bytes() if args.private_key else None,
        kid=args.kid,
    )
