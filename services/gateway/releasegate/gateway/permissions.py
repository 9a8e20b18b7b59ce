"""Who may call what: the one table the routes enforce and the README shows.

Workspace roles are checked in the request's workspace; holders of a tenant-wide
role (DARTS Administrator, Tenant Administrator) may call everything in their
project.
"""

from __future__ import annotations

from releasegate.shared.identity import Role

EVERYONE = frozenset(Role)

PERMISSIONS: dict[str, frozenset[Role]] = {
    "list_pending_items": EVERYONE,
    "ingest_event": frozenset({Role.DEVELOPER, Role.ADMIN}),
}
