"""One sample request per API operation (a key of the gateway's PERMISSIONS table).

The roles-table test sends each sample as a caller holding exactly one role and checks
the cell of the roles table in docs/api.md: allowed (not 401/403, no 5xx) or denied
(403 DLF.6888). A new ``/v2`` or ``/v1`` route fails tests/unit/test_gateway_roles.py
until it has an entry in PERMISSIONS, a row in that table and a sample here. A sample
need not succeed (an unknown package id answering 400 still proves the caller got in).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.events import version_submitted

P = "/v2/demo"


@dataclass(frozen=True)
class Sample:
    method: str
    path: str
    json: Any = None
    params: dict[str, Any] = field(default_factory=dict)


SAMPLES: dict[str, Sample] = {
    "list_pending_items": Sample("GET", f"{P}/factory/pending-items", params={"limit": 5}),
    # The roles test's caller is u-cell: an event speaks for its caller.
    "ingest_event": Sample(
        "POST",
        f"{P}/factory/events",
        json=version_submitted("sample", submitter="u-cell", submitter_name="cell"),
    ),
    "diff_pending_item": Sample("GET", f"{P}/factory/pending-items/42/diff"),
    "revoke_pending_items": Sample(
        "POST", f"{P}/factory/pending-items/revoke", json={"pending_item_ids": ["42"]}
    ),
    "create_package": Sample(
        "POST",
        f"{P}/factory/pending-items/package",
        json={"package_name": "p", "pending_item_list": ["42"], "approver_ids": ["u-deployer"]},
    ),
    "query_packages": Sample("POST", f"{P}/factory/release-packages", json={"limit": 5}),
    "package_details": Sample("GET", f"{P}/factory/release-packages/42"),
    "package_audit": Sample("GET", f"{P}/factory/release-packages/42/audit"),
    "compare_packages": Sample("GET", f"{P}/factory/release-packages/42/compare/43"),
    "deploy_packages": Sample(
        "POST", f"{P}/factory/release-packages/deploy", json={"package_ids": ["42"]}
    ),
    "unpack_packages": Sample(
        "POST", f"{P}/factory/release-packages/unpack", json={"package_ids": ["42"]}
    ),
    "system_task": Sample("GET", "/v1/demo/system-tasks/42"),
    "list_reviewers": Sample("GET", f"{P}/factory/reviewers"),
    "add_reviewer": Sample("PUT", f"{P}/factory/reviewers/u-deployer"),
    "remove_reviewer": Sample("DELETE", f"{P}/factory/reviewers/u-nobody"),
    "get_approval_policy": Sample("GET", f"{P}/factory/approval-policy"),
    "set_approval_policy": Sample(
        "PUT", f"{P}/factory/approval-policy", json={"required_approvals": 1}
    ),
    "production_items": Sample("GET", f"{P}/factory/production/items"),
    "production_history": Sample(
        "GET", f"{P}/factory/production/history", params={"item_name": "x"}
    ),
    "list_users": Sample("GET", f"{P}/releasegate/users"),
    "put_user": Sample("PUT", f"{P}/releasegate/users/u-new", json={"name": "new"}),
    "set_workspace_roles": Sample(
        "PUT", f"{P}/releasegate/users/u-dev/roles", json={"roles": ["viewer"]}
    ),
    "set_tenant_roles": Sample(
        "PUT", f"{P}/releasegate/users/u-dev/tenant-roles", json={"tenant_roles": []}
    ),
}
