"""``releasegate users ...`` and ``releasegate projects ...``: identity in MongoDB
(``RELEASEGATE_MONGODB_URL`` / ``RELEASEGATE_MONGODB_DB``), where the gateway reads it."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from releasegate.cli.infra import mongo_database
from releasegate.shared.config import CommonSettings
from releasegate.shared.identity import IdentityStore, Project, Role, TenantRole, User
from releasegate.shared.store.base import Database


class CliError(SystemExit):
    pass


def add_parsers(sub: Any) -> None:
    projects = sub.add_parser("projects", help="manage projects and their workspaces")
    psub = projects.add_subparsers(dest="action", required=True)
    padd = psub.add_parser("add", help="add a project, or replace its workspaces")
    padd.add_argument("project_id")
    padd.add_argument("--default-workspace", required=True)
    padd.add_argument("--workspace", action="append", default=[], help="repeatable")
    padd.set_defaults(handler=lambda a: _run(add_project, a))
    plist = psub.add_parser("list", help="list projects")
    plist.set_defaults(handler=lambda a: _run(list_projects, a))

    users = sub.add_parser("users", help="manage users and their roles")
    usub = users.add_subparsers(dest="action", required=True)
    uadd = usub.add_parser("add", help="add a user to a project")
    uadd.add_argument("user_id")
    uadd.add_argument("--name", required=True)
    uadd.add_argument("--project", required=True)
    uadd.add_argument("--role", action="append", default=[], help="WORKSPACE=ROLE, repeatable")
    uadd.add_argument(
        "--tenant", action="append", default=[], choices=[r.value for r in TenantRole]
    )
    uadd.set_defaults(handler=lambda a: _run(add_user, a))
    ulist = usub.add_parser("list", help="list the users of a project")
    ulist.add_argument("--project", required=True)
    ulist.set_defaults(handler=lambda a: _run(list_users, a))
    for action, handler in (("grant", grant), ("revoke", revoke)):
        cmd = usub.add_parser(action, help=f"{action} a workspace role or a tenant-wide role")
        cmd.add_argument("user_id")
        cmd.add_argument("--role", choices=[r.value for r in Role], help="a workspace role")
        cmd.add_argument("--workspace", help="the workspace of --role")
        cmd.add_argument("--tenant", choices=[r.value for r in TenantRole])
        cmd.set_defaults(handler=lambda a, h=handler: _run(h, a))


def _run(command: Callable[[Database, argparse.Namespace], Awaitable[str]], args: Any) -> int:
    async def go() -> str:
        db = mongo_database(CommonSettings(dev_mode=True))
        try:
            return await command(db, args)
        finally:
            await db.close()

    print(asyncio.run(go()))
    return 0


async def add_project(db: Database, args: argparse.Namespace) -> str:
    project = Project(
        project_id=args.project_id,
        default_workspace=args.default_workspace,
        workspaces=sorted({args.default_workspace, *args.workspace}),
    )
    await IdentityStore(db).put_project(project)
    return project.model_dump_json()


async def list_projects(db: Database, args: argparse.Namespace) -> str:
    return "\n".join(p.model_dump_json() for p in await IdentityStore(db).list_projects())


def _workspace_roles(specs: list[str]) -> dict[str, list[Role]]:
    out: dict[str, list[Role]] = {}
    for spec in specs:
        workspace, _, role = spec.partition("=")
        if not workspace or role not in {r.value for r in Role}:
            raise CliError(
                f"--role takes WORKSPACE=ROLE with ROLE one of {[r.value for r in Role]}"
            )
        out.setdefault(workspace, []).append(Role(role))
    return out


async def add_user(db: Database, args: argparse.Namespace) -> str:
    identity = IdentityStore(db)
    project = await identity.get_project(args.project)
    if project is None:
        raise CliError(f"no project {args.project!r}; add it with: releasegate projects add")
    roles = _workspace_roles(args.role)
    unknown = set(roles) - project.all_workspaces()
    if unknown:
        raise CliError(f"workspaces {sorted(unknown)} are not in project {args.project!r}")
    user = User(
        user_id=args.user_id,
        name=args.name,
        project_id=args.project,
        workspace_roles=roles,
        tenant_roles=[TenantRole(t) for t in args.tenant],
    )
    if not await identity.add_user(user):
        raise CliError(f"user {args.user_id!r} exists already")
    return user.model_dump_json()


async def list_users(db: Database, args: argparse.Namespace) -> str:
    users = await IdentityStore(db).list_users(args.project)
    return "\n".join(u.model_dump_json() for u in users)


async def _change_role(db: Database, args: argparse.Namespace, granting: bool) -> str:
    identity = IdentityStore(db)
    user = await identity.get_user(args.user_id)
    if user is None:
        raise CliError(f"no user {args.user_id!r}")
    if args.tenant and not args.role:
        tenant = set(user.tenant_roles)
        tenant = (
            tenant | {TenantRole(args.tenant)} if granting else tenant - {TenantRole(args.tenant)}
        )
        await identity.set_tenant_roles(user.user_id, sorted(tenant))
    elif args.role and args.workspace and not args.tenant:
        project = await identity.get_project(user.project_id)
        if project is None or args.workspace not in project.all_workspaces():
            raise CliError(f"workspace {args.workspace!r} is not in project {user.project_id!r}")
        roles = user.roles_in(args.workspace)
        roles = roles | {Role(args.role)} if granting else roles - {Role(args.role)}
        await identity.set_workspace_roles(user.user_id, args.workspace, sorted(roles))
    else:
        raise CliError("give either --role R with --workspace W, or --tenant T")
    changed = await identity.get_user(user.user_id)
    return json.dumps(changed.model_dump(mode="json") if changed else {})


async def grant(db: Database, args: argparse.Namespace) -> str:
    return await _change_role(db, args, granting=True)


async def revoke(db: Database, args: argparse.Namespace) -> str:
    return await _change_role(db, args, granting=False)
