"""The official SDK creates, queries and shows release packages (API.md: create release
package, query release packages, package details). Data is prepared with the token
helpers; every assertion is on the SDK's parsed models, and ``assert_wire`` checks the
JSON they were parsed from against the SDK's declared types."""

from __future__ import annotations

import time

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkdataartsstudio.v1 import (
    CreateFactoryPendingItemsPackageBody,
    CreateFactoryPendingItemsPackageRequest,
    CreateFactoryPendingItemsPackageResponse,
    ListFactoryReleasePackagesRequest,
    ListFactoryReleasePackagesResponse,
    ListReleasePackagesRequestBody,
    ListReleasePackagesRespData,
    ListReleasePackagesRespPackageApprovers,
    ShowFactoryPackageDetailRequest,
    ShowFactoryPackageDetailResponse,
    ShowPackageDetailRespReleasePackage,
    ShowPackageDetailRespReleasePackagePackageApprovers,
    ShowPackageDetailRespTaskDetails,
)

from tests.events import version_submitted
from tests.sdk.conftest import SdkGateway
from tests.sdk.wire import assert_wire

NOT_DEPLOYED = ("deploy_timestamp", "deploy_user_id", "deploy_user_name")


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def test_create_factory_pending_items_package(sdk_gateway: SdkGateway) -> None:
    ids = [sdk_gateway.submit("orders_etl"), sdk_gateway.submit("orders_sql", "script")]
    client = sdk_gateway.client("dev")
    created = client.create_factory_pending_items_package(
        CreateFactoryPendingItemsPackageRequest(
            workspace="default",
            x_project_id="demo",
            body=CreateFactoryPendingItemsPackageBody(
                apply_user_id="u-dev",
                package_name="orders 发布",
                pending_item_list=ids,
                approver_ids=["u-deployer", "u-admin"],
            ),
        )
    )
    assert isinstance(created, CreateFactoryPendingItemsPackageResponse)
    assert created.status_code == 200
    assert created.package_name == "orders 发布"
    assert isinstance(created.release_package_id, str) and created.release_package_id.isdigit()
    assert assert_wire(created) == {
        "package_name": "orders 发布",
        "release_package_id": created.release_package_id,
    }

    pending = sdk_gateway.request("GET", "/v2/demo/factory/pending-items?limit=100")
    assert {d["pending_item_id"]: d["package_flag"] for d in pending["data"]} == {
        ids[0]: 1,
        ids[1]: 1,
    }
    details = sdk_gateway.request(
        "GET", f"/v2/demo/factory/release-packages/{created.release_package_id}"
    )
    assert [t["pending_item_id"] for t in details["task_details"]] == ids
    assert [a["user_id"] for a in details["release_package"]["package_approvers"]] == [
        "u-deployer",
        "u-admin",
    ]

    # The service's refusals reach the SDK with their codes: the items are packaged now.
    with pytest.raises(ClientRequestException) as taken:
        client.create_factory_pending_items_package(
            CreateFactoryPendingItemsPackageRequest(
                body=CreateFactoryPendingItemsPackageBody(
                    package_name="again", pending_item_list=ids, approver_ids=["u-deployer"]
                )
            )
        )
    assert taken.value.status_code == 400 and taken.value.error_code == "DLF.2101"
    assert "already packaged" in taken.value.error_msg

    other = sdk_gateway.submit("billing")
    with pytest.raises(ClientRequestException) as own:
        client.create_factory_pending_items_package(
            CreateFactoryPendingItemsPackageRequest(
                body=CreateFactoryPendingItemsPackageBody(
                    package_name="self-approved", pending_item_list=[other], approver_ids=["u-dev"]
                )
            )
        )
    assert own.value.status_code == 400 and own.value.error_code == "DLF.3002"


def test_list_factory_release_packages(sdk_gateway: SdkGateway) -> None:
    before = now_ms()
    daily = sdk_gateway.package("orders-daily", [sdk_gateway.submit("orders_etl")])
    monthly = sdk_gateway.package("billing-monthly", [sdk_gateway.submit("billing")])
    hotfix = sdk_gateway.package(
        "orders-hotfix", [sdk_gateway.submit("orders_fix", user="admin")], user="admin"
    )
    applied = now_ms()
    assert sdk_gateway.release(monthly)["status"] == "SUCCESSFUL"
    released = now_ms()

    # Fuzzy, case-insensitive name, status filter, ascending by name, second page of one.
    page = sdk_gateway.client("dev").list_factory_release_packages(
        ListFactoryReleasePackagesRequest(
            workspace="default",
            body=ListReleasePackagesRequestBody(
                key_word="ORDERS",
                deploy_status_filter=[1],
                sorted_direction="asc",
                order_column="package_name",
                limit=1,
                offset=1,
            ),
        )
    )
    assert isinstance(page, ListFactoryReleasePackagesResponse)
    assert page.status_code == 200 and page.total == 2 and len(page.data) == 1
    assert page.x_request_id  # the response header the SDK model declares
    assert_wire(page, nullable=NOT_DEPLOYED)
    item = page.data[0]
    assert isinstance(item, ListReleasePackagesRespData)
    assert isinstance(item.package_id, str) and item.package_id == hotfix
    assert item.package_name == "orders-hotfix"
    assert isinstance(item.apply_timestamp, int) and before <= item.apply_timestamp <= applied
    assert (item.apply_user_id, item.apply_user_name) == ("u-admin", "admin")
    assert item.deploy_status == 1 and item.delete_flag == 0
    assert item.deploy_timestamp is None
    assert item.deploy_user_id is None and item.deploy_user_name is None
    assert (item.project_id, item.workspace_id) == ("demo", "default")
    [approver] = item.package_approvers
    assert isinstance(approver, ListReleasePackagesRespPackageApprovers)
    assert (approver.user_id, approver.user_name) == ("u-deployer", "deployer")

    # Who applied, who released and when, newest release first.
    page = sdk_gateway.client("deployer").list_factory_release_packages(
        ListFactoryReleasePackagesRequest(
            body=ListReleasePackagesRequestBody(
                apply_user_name="DE",
                apply_user_name_filter=["dev", "admin"],
                deploy_user_name="deploy",
                deploy_user_name_filter=["deployer"],
                apply_begin_time=before,
                apply_end_time=applied,
                deploy_begin_time=applied,
                deploy_end_time=released,
                deploy_status_filter=[2, 3],
                sorted_direction="desc",
                order_column="deploy_timestamp",
                limit=10,
                offset=0,
            )
        )
    )
    assert page.total == 1
    assert_wire(page)
    [item] = page.data
    assert item.package_id == monthly and item.deploy_status == 2
    assert isinstance(item.deploy_timestamp, int) and applied <= item.deploy_timestamp <= released
    assert (item.deploy_user_id, item.deploy_user_name) == ("u-deployer", "deployer")

    # No body at all: every package, newest application first.
    page = sdk_gateway.client("admin").list_factory_release_packages(
        ListFactoryReleasePackagesRequest()
    )
    assert page.total == 3
    assert {p.package_id for p in page.data} == {daily, monthly, hotfix}
    stamps = [p.apply_timestamp for p in page.data]
    assert stamps == sorted(stamps, reverse=True)

    # Nothing applied for in the future.
    page = sdk_gateway.client("admin").list_factory_release_packages(
        ListFactoryReleasePackagesRequest(
            body=ListReleasePackagesRequestBody(apply_begin_time=now_ms() + 60_000)
        )
    )
    assert page.total == 0 and page.data == []
    assert assert_wire(page) == {"data": [], "total": 0}


def test_show_factory_package_detail(sdk_gateway: SdkGateway) -> None:
    at = 1_763_700_000_000
    for name, task_type in (("orders_etl", "job"), ("orders_sql", "script")):
        event = version_submitted(name, 3, task_type=task_type, at=at)
        sdk_gateway.request("POST", "/v2/demo/factory/events", event)
    page = sdk_gateway.wait_for(
        "/v2/demo/factory/pending-items", lambda p: p["total"] == 2, "two pending items"
    )
    ids = {d["item_name"]: d["pending_item_id"] for d in page["data"]}
    package_id = sdk_gateway.package("orders", [ids["orders_etl"], ids["orders_sql"]])

    client = sdk_gateway.client("dev")
    details = client.show_factory_package_detail(
        ShowFactoryPackageDetailRequest(package_id=package_id, workspace="default")
    )
    assert isinstance(details, ShowFactoryPackageDetailResponse) and details.status_code == 200
    assert details.x_request_id
    assert_wire(details, nullable=NOT_DEPLOYED)
    package = details.release_package
    assert isinstance(package, ShowPackageDetailRespReleasePackage)
    assert package.package_id == package_id and package.package_name == "orders"
    assert isinstance(package.apply_timestamp, int) and package.apply_timestamp > at
    assert (package.apply_user_id, package.apply_user_name) == ("u-dev", "dev")
    assert package.deploy_status == 1 and package.delete_flag == 0
    assert package.deploy_timestamp is None
    assert package.deploy_user_id is None and package.deploy_user_name is None
    assert (package.project_id, package.workspace_id) == ("demo", "default")
    [approver] = package.package_approvers
    assert isinstance(approver, ShowPackageDetailRespReleasePackagePackageApprovers)
    assert (approver.user_id, approver.user_name) == ("u-deployer", "deployer")

    job, script = details.task_details
    for task, name, task_type in ((job, "orders_etl", 1), (script, "orders_sql", 2)):
        assert isinstance(task, ShowPackageDetailRespTaskDetails)
        assert task.item_name == name and task.pending_item_id == ids[name]
        assert isinstance(task.task_id, str) and task.task_id.isdigit()
        assert (task.task_type, task.update_type) == (task_type, 1)
        assert (task.pending_version, task.deployed_version) == (3, 0)
        assert (task.deploy_status, task.start_job_status) == (1, 0)
        assert task.submit_timestamp == at
        assert (task.submit_user_id, task.submit_user_name) == ("u-dev", "dev")
    assert job.script_id == ""
    assert isinstance(script.script_id, str) and script.script_id != ""

    with pytest.raises(ClientRequestException) as unknown:
        client.show_factory_package_detail(ShowFactoryPackageDetailRequest(package_id="12345"))
    assert unknown.value.status_code == 400 and unknown.value.error_code == "DLF.0810"
    assert "12345" in unknown.value.error_msg
    assert unknown.value.request_id and unknown.value.request_id != details.x_request_id
