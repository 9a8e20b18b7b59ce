"""The demo tenant of embedded mode: project ``demo``, workspace ``default``, users
``dev`` (developer), ``deployer`` (deployer) and ``admin`` (workspace admin)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from releasegate.shared.clock import SystemClock
from releasegate.shared.config import CommonSettings
from releasegate.shared.credentials import CredentialStore
from releasegate.shared.identity import IdentityStore, Project, Role, User
from releasegate.shared.tokens import mint_token

PROJECT = "demo"
WORKSPACE = "default"
DEMO_USERS = {
    "dev": ("u-dev", "dev", Role.DEVELOPER),
    "deployer": ("u-deployer", "deployer", Role.DEPLOYER),
    "admin": ("u-admin", "admin", Role.ADMIN),
}


async def seed_demo(
    identity: IdentityStore,
    settings: CommonSettings,
    base_url: str,
    ttl_s: int = 7 * 24 * 3600,
    credentials: CredentialStore | None = None,
) -> dict[str, Any]:
    """The demo tenant; each user gets a token and, given a credential store, an AK/SK
    pair (for the official SDK)."""
    await identity.put_project(
        Project(project_id=PROJECT, default_workspace=WORKSPACE, workspaces=[WORKSPACE])
    )
    users: dict[str, Any] = {}
    for login, (user_id, name, role) in DEMO_USERS.items():
        await identity.put_user(
            User(
                user_id=user_id, name=name, project_id=PROJECT, workspace_roles={WORKSPACE: [role]}
            )
        )
        token = mint_token(
            user_id,
            secret=settings.token_secret,
            issuer=settings.token_issuer,
            audience=settings.token_audience,
            ttl_s=ttl_s,
        )
        users[login] = {"user_id": user_id, "token": token}
        if credentials is not None:
            pair = await credentials.issue(user_id, SystemClock().now_ms())
            users[login].update(ak=pair.access_key, sk=pair.secret_key)
    return {"users": users, "project_id": PROJECT, "workspace": WORKSPACE, "base_url": base_url}


def write_credentials(path: Path, credentials: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(credentials, indent=2) + "\n")
    os.chmod(path, 0o600)


def usage_text(credentials: dict[str, Any], path: Path) -> str:
    base = credentials["base_url"]
    project = credentials["project_id"]
    return f"""
releasegate is running in embedded mode (all services in one process, in memory).
  OpenAPI:      {base}/docs
  Credentials:  {path}   (tokens and AK/SK pairs for dev, deployer, admin)

Try it:
  TOKEN=$(python3 -c "import json;print(json.load(open('{path}'))['users']['dev']['token'])")
  curl -s -X POST {base}/v2/{project}/factory/events -H "X-Auth-Token: $TOKEN" \\
       -H 'Content-Type: application/json' -d @examples/version-submitted.json
  curl -s {base}/v2/{project}/factory/pending-items -H "X-Auth-Token: $TOKEN"
The whole flow, from a submitted version to production:
  .venv/bin/python examples/walkthrough.py --credentials {path}
Stop with Ctrl-C.
"""
