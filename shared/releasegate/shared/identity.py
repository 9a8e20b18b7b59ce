"""Users, their roles per workspace, and projects: stored in MongoDB, owned by the
gateway, read by the review service to check approvers."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from releasegate.shared.store.base import Database, Doc, DuplicateKey, IndexSpec

USERS = "identity_users"
PROJECTS = "identity_projects"


class Role(StrEnum):
    DEVELOPER = "developer"
    DEPLOYER = "deployer"
    OPERATOR = "operator"
    VIEWER = "viewer"
    ADMIN = "admin"


class TenantRole(StrEnum):
    DARTS_ADMINISTRATOR = "DARTS Administrator"
    TENANT_ADMINISTRATOR = "Tenant Administrator"


class User(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    user_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=128)
    project_id: str = Field(min_length=1, max_length=64)
    workspace_roles: dict[str, list[Role]] = Field(default_factory=dict)
    tenant_roles: list[TenantRole] = Field(default_factory=list)
    disabled: bool = False

    def roles_in(self, workspace_id: str) -> set[Role]:
        return set(self.workspace_roles.get(workspace_id, []))

    def is_tenant_admin(self) -> bool:
        return bool(self.tenant_roles)

    def works_in(self, project_id: str, workspace_id: str) -> bool:
        """An enabled user of the project holding a role in the workspace, or a
        tenant-wide one: someone who can have applied for a package there."""
        return (
            not self.disabled
            and self.project_id == project_id
            and (self.is_tenant_admin() or bool(self.roles_in(workspace_id)))
        )

    def can_review(self, workspace_id: str) -> bool:
        """Reviewer eligibility: workspace admin or deployer, or a tenant-wide role."""
        return self.is_tenant_admin() or bool(
            self.roles_in(workspace_id) & {Role.ADMIN, Role.DEPLOYER}
        )


# Workspace ids are keys of ``User.workspace_roles`` and appear in dotted update
# paths, so they never contain dots or '$'.
WorkspaceId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class Project(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    project_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    default_workspace: WorkspaceId
    workspaces: list[WorkspaceId] = Field(default_factory=list)

    def all_workspaces(self) -> set[str]:
        return {self.default_workspace, *self.workspaces}


USER_INDEXES = [IndexSpec((("project_id", 1), ("name", 1)), name="project_name")]


class IdentityStore:
    def __init__(self, db: Database) -> None:
        self._users = db.collection(USERS)
        self._projects = db.collection(PROJECTS)

    async def ensure_indexes(self) -> None:
        await self._users.ensure_indexes(USER_INDEXES)

    async def put_user(self, user: User) -> None:
        doc = user.model_dump(mode="json")
        await self._users.update_one({"_id": user.user_id}, {"$set": doc}, upsert=True)

    async def get_user(self, user_id: str) -> User | None:
        doc = await self._users.find_one({"_id": user_id})
        return None if doc is None else _user(doc)

    async def list_users(self, project_id: str, *, skip: int = 0, limit: int = 0) -> list[User]:
        docs = await self._users.find(
            {"project_id": project_id}, sort=[("name", 1), ("_id", 1)], skip=skip, limit=limit
        )
        return [_user(doc) for doc in docs]

    async def count_users(self, project_id: str) -> int:
        return await self._users.count({"project_id": project_id})

    async def add_user(self, user: User) -> bool:
        """Insert a new user; False if the id exists (in any project)."""
        doc = {"_id": user.user_id, **user.model_dump(mode="json")}
        try:
            await self._users.insert_one(doc)
        except DuplicateKey:
            return False
        return True

    async def update_profile(self, user_id: str, *, name: str, disabled: bool) -> None:
        await self._users.update_one(
            {"_id": user_id}, {"$set": {"name": name, "disabled": disabled}}
        )

    async def set_workspace_roles(self, user_id: str, workspace_id: str, roles: list[Role]) -> None:
        """Replace the user's roles in one workspace (single-field update: concurrent
        changes to other workspaces are not lost)."""
        field = f"workspace_roles.{workspace_id}"
        if roles:
            update: dict[str, Any] = {"$set": {field: sorted({r.value for r in roles})}}
        else:
            update = {"$unset": {field: ""}}
        await self._users.update_one({"_id": user_id}, update)

    async def set_tenant_roles(self, user_id: str, roles: list[TenantRole]) -> None:
        await self._users.update_one(
            {"_id": user_id}, {"$set": {"tenant_roles": sorted({r.value for r in roles})}}
        )

    async def list_projects(self) -> list[Project]:
        docs = await self._projects.find({}, sort=[("_id", 1)])
        out = []
        for doc in docs:
            doc.pop("_id", None)
            out.append(Project.model_validate(doc))
        return out

    async def get_users(self, user_ids: list[str]) -> dict[str, User]:
        docs = await self._users.find({"_id": {"$in": list(user_ids)}})
        return {user.user_id: user for user in map(_user, docs)}

    async def put_project(self, project: Project) -> None:
        doc = project.model_dump(mode="json")
        await self._projects.update_one({"_id": project.project_id}, {"$set": doc}, upsert=True)

    async def get_project(self, project_id: str) -> Project | None:
        doc = await self._projects.find_one({"_id": project_id})
        if doc is None:
            return None
        doc.pop("_id", None)
        return Project.model_validate(doc)


def _user(doc: Doc) -> User:
    doc.pop("_id", None)
    return User.model_validate(doc)
