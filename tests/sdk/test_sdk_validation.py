"""Invalid SDK requests on every package endpoint: the SDK sends them as built (it
validates nothing itself), the gateway answers 400 ``DLF.0802`` naming the field, and
the SDK raises its client error carrying that code and message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkdataartsstudio.v1 import (
    CancelFactoryPackagesRequest,
    CancelFactoryPackagesRequestBody,
    CreateFactoryPendingItemsPackageBody,
    CreateFactoryPendingItemsPackageRequest,
    DataArtsStudioClient,
    DeployFactoryPackagesRequest,
    DeployFactoryPackagesRequestBody,
    ListFactoryReleasePackagesRequest,
    ListReleasePackagesRequestBody,
    ShowFactoryPackageDetailRequest,
)

from tests.sdk.conftest import SdkGateway

Call = Callable[[DataArtsStudioClient], Any]


def deploy(package_ids: list[str], startup_mode: int | None = None) -> Call:
    body = DeployFactoryPackagesRequestBody(package_ids=package_ids, startup_mode=startup_mode)
    return lambda c: c.deploy_factory_packages(DeployFactoryPackagesRequest(body=body))


def cancel(package_ids: list[str]) -> Call:
    body = CancelFactoryPackagesRequestBody(package_ids=package_ids)
    return lambda c: c.cancel_factory_packages(CancelFactoryPackagesRequest(body=body))


def create(items: list[str], approvers: list[str], name: str = "pkg") -> Call:
    body = CreateFactoryPendingItemsPackageBody(
        package_name=name, pending_item_list=items, approver_ids=approvers
    )
    return lambda c: c.create_factory_pending_items_package(
        CreateFactoryPendingItemsPackageRequest(body=body)
    )


def query(**filters: Any) -> Call:
    body = ListReleasePackagesRequestBody(**filters)
    return lambda c: c.list_factory_release_packages(ListFactoryReleasePackagesRequest(body=body))


def show(package_id: str) -> Call:
    return lambda c: c.show_factory_package_detail(
        ShowFactoryPackageDetailRequest(package_id=package_id)
    )


IDS = [str(1000 + i) for i in range(101)]

CASES: dict[str, tuple[str, Call, str]] = {
    "deploy startup_mode 5": ("deployer", deploy(["1000"], startup_mode=5), "startup_mode"),
    "deploy 101 ids": ("deployer", deploy(IDS), "package_ids"),
    "deploy no ids": ("deployer", deploy([]), "package_ids"),
    "deploy a repeated id": ("deployer", deploy(["1000", "1000"]), "package_ids"),
    "deploy a non-numeric id": ("deployer", deploy(["pkg-1"]), "package_ids"),
    "cancel 101 ids": ("dev", cancel(IDS), "package_ids"),
    "cancel a non-numeric id": ("dev", cancel(["pkg-1"]), "package_ids"),
    "create with 101 items": ("dev", create(IDS, ["u-deployer"]), "pending_item_list"),
    "create without approvers": ("dev", create(["1000"], []), "approver_ids"),
    "create without a name": ("dev", create(["1000"], ["u-deployer"], name=""), "package_name"),
    "query limit 101": ("dev", query(limit=101), "limit"),
    "query negative offset": ("dev", query(offset=-1), "offset"),
    "query sorted_direction": ("dev", query(sorted_direction="up"), "sorted_direction"),
    "query order_column": ("dev", query(order_column="package_id"), "order_column"),
    "query deploy_status_filter": ("dev", query(deploy_status_filter=[9]), "deploy_status_filter"),
    "details of a non-numeric id": ("dev", show("pkg-1"), "package_id"),
}


@pytest.mark.parametrize("case", CASES)
def test_sdk_validation_errors_are_dlf_0802(sdk_gateway: SdkGateway, case: str) -> None:
    user, call, field = CASES[case]
    with pytest.raises(ClientRequestException) as refused:
        call(sdk_gateway.client(user))
    assert refused.value.status_code == 400
    assert refused.value.error_code == "DLF.0802"
    assert field in refused.value.error_msg
