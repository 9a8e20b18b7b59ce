"""Who may call what: the one table the routes enforce and the README shows.

Workspace roles are checked in the request's workspace; holders of a tenant-wide
role (DARTS Administrator, Tenant Administrator) may call everything in their
project. An empty set means: tenant-wide roles only.
"""

from __future__ import annotations

from releasegate.shared.identity import Role

EVERYONE = frozenset(Role)
TENANT_ADMINS_ONLY: frozenset[Role] = frozenset()

PERMISSIONS: dict[str, frozenset[Role]] = {
    "list_pending_items": EVERYONE,
    "ingest_event": frozenset({Role.DEVELOPER, Role.ADMIN}),
    # Identity administration (extension).
    "list_users": frozenset({Role.ADMIN}),
    "set_workspace_roles": frozenset({Role.ADMIN}),
    "put_user": TENANT_ADMINS_ONLY,
    "set_tenant_roles": TENANT_ADMINS_ONLY,
}
