"""Who may call what: the one table the routes enforce and docs/api.md shows.

Workspace roles are checked in the request's workspace; holders of a tenant-wide
role (DARTS Administrator, Tenant Administrator) may call everything in their
project. An empty set means: tenant-wide roles only.
"""

from __future__ import annotations

from releasegate.shared.identity import Role

EVERYONE = frozenset(Role)
DEVELOPERS = frozenset({Role.DEVELOPER, Role.ADMIN})
RELEASERS = frozenset({Role.DEPLOYER, Role.ADMIN})
ADMINS = frozenset({Role.ADMIN})
TENANT_ADMINS_ONLY: frozenset[Role] = frozenset()

PERMISSIONS: dict[str, frozenset[Role]] = {
    "list_pending_items": EVERYONE,
    "diff_pending_item": EVERYONE,
    # The submitter may revoke their own task; deployers and admins any task.
    "revoke_pending_items": DEVELOPERS | RELEASERS,
    "ingest_event": DEVELOPERS,
    "create_package": DEVELOPERS | RELEASERS,
    "query_packages": EVERYONE,
    "package_details": EVERYONE,
    "package_audit": EVERYONE,
    "compare_packages": EVERYONE,
    "deploy_packages": RELEASERS,
    # The applicant may withdraw their own package; deployers and admins reject any.
    "unpack_packages": DEVELOPERS | RELEASERS,
    "system_task": EVERYONE,
    "list_reviewers": EVERYONE,
    "add_reviewer": ADMINS,
    "remove_reviewer": ADMINS,
    "get_approval_policy": EVERYONE,
    "set_approval_policy": ADMINS,
    "production_items": EVERYONE,
    "production_history": EVERYONE,
    # Identity administration (extension); tenant administrators may call everything.
    "list_users": ADMINS,
    "set_workspace_roles": ADMINS,
    "put_user": TENANT_ADMINS_ONLY,
    "set_tenant_roles": TENANT_ADMINS_ONLY,
}
