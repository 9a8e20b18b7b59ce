"""Users, their roles per workspace, and projects: stored in MongoDB, owned by the
gateway, read by the review service to check approvers."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from releasegate.shared.store.base import Database, IndexSpec

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

    def can_review(self, workspace_id: str) -> bool:
        """Reviewer eligibility: workspace admin or deployer, or a tenant-wide role."""
        return self.is_tenant_admin() or bool(
            self.roles_in(workspace_id) & {Role.ADMIN, Role.DEPLOYER}
        )


class Project(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    project_id: str = Field(min_length=1, max_length=64)
    default_workspace: str = Field(min_length=1, max_length=64)
    workspaces: list[str] = Field(default_factory=list)


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
        if doc is None:
            return None
        doc.pop("_id", None)
        return User.model_validate(doc)

    async def get_users(self, user_ids: list[str]) -> dict[str, User]:
        docs = await self._users.find({"_id": {"$in": list(user_ids)}})
        out = {}
        for doc in docs:
            doc.pop("_id", None)
            user = User.model_validate(doc)
            out[user.user_id] = user
        return out

    async def put_project(self, project: Project) -> None:
        doc = project.model_dump(mode="json")
        await self._projects.update_one({"_id": project.project_id}, {"$set": doc}, upsert=True)

    async def get_project(self, project_id: str) -> Project | None:
        doc = await self._projects.find_one({"_id": project_id})
        if doc is None:
            return None
        doc.pop("_id", None)
        return Project.model_validate(doc)
