"""The official SDK releases (deploy) and revokes (unpack) packages (API.md: release,
revoke / cancel). The asynchronous release is polled with the token helper (the
system-task endpoint is not in the SDK); the outcome is read through the SDK again.

Reads of one package before and after a change come from different users: the same
SDK call twice within a second carries the same signature, which the gateway refuses
as a replay."""

from __future__ import annotations

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkdataartsstudio.v1 import (
    CancelFactoryPackagesRequest,
    CancelFactoryPackagesRequestBody,
    CancelFactoryPackagesResponse,
    DeployFactoryPackagesRequest,
    DeployFactoryPackagesRequestBody,
    DeployFactoryPackagesResponse,
    DeployPackagesResponseDeployPackageDetails,
    ShowFactoryPackageDetailRequest,
)

from tests.sdk.conftest import SdkGateway
from tests.sdk.wire import assert_wire


def deploy_request(package_ids: list[str], startup_mode: int | None = None) -> object:
    return DeployFactoryPackagesRequest(
        body=DeployFactoryPackagesRequestBody(package_ids=package_ids, startup_mode=startup_mode)
    )


def test_deploy_factory_packages(sdk_gateway: SdkGateway) -> None:
    orders_etl = sdk_gateway.submit("orders_etl")
    orders_sql = sdk_gateway.submit("orders_sql", "script")
    orders = sdk_gateway.package("orders", [orders_etl, orders_sql])
    billing = sdk_gateway.package("billing", [sdk_gateway.submit("billing")])
    quiet = sdk_gateway.package("quiet", [sdk_gateway.submit("quiet_job")])

    with pytest.raises(ClientRequestException) as developer:
        sdk_gateway.client("dev").deploy_factory_packages(deploy_request([orders]))
    assert developer.value.status_code == 403 and developer.value.error_code == "DLF.6888"

    # Two packages in one call, jobs started after release (startup_mode 1).
    deployer = sdk_gateway.client("deployer")
    result = deployer.deploy_factory_packages(deploy_request([orders, billing], startup_mode=1))
    assert isinstance(result, DeployFactoryPackagesResponse) and result.status_code == 200
    assert_wire(result)
    assert len(result.deploy_package_details) == 2
    for detail, package_id, subtasks in zip(
        result.deploy_package_details, (orders, billing), (2, 1), strict=True
    ):
        assert isinstance(detail, DeployPackagesResponseDeployPackageDetails)
        assert isinstance(detail.package_id, int) and detail.package_id == int(package_id)
        assert isinstance(detail.asy_task_id, str) and detail.asy_task_id.isdigit()
        assert detail.asy_subtask_num == subtasks
    task = sdk_gateway.wait_until_released(result.deploy_package_details[0].asy_task_id)
    assert task["status"] == "SUCCESSFUL"
    assert sorted(s["taskId"] for s in task["subtasks"]) == sorted([orders_etl, orders_sql])
    assert all(s["status"] == "SUCCESSFUL" for s in task["subtasks"])

    details = sdk_gateway.client("dev").show_factory_package_detail(
        ShowFactoryPackageDetailRequest(package_id=orders)
    )
    assert_wire(details)
    package = details.release_package
    assert package.deploy_status == 2
    assert (package.deploy_user_id, package.deploy_user_name) == ("u-deployer", "deployer")
    assert isinstance(package.deploy_timestamp, int)
    assert package.deploy_timestamp >= package.apply_timestamp
    status = {
        t.item_name: (t.deploy_status, t.start_job_status, t.deployed_version)
        for t in details.task_details
    }
    assert status == {"orders_etl": (2, 2, 1), "orders_sql": (2, 0, 1)}  # a script: no start

    # startup_mode 0: released, not started.
    result = deployer.deploy_factory_packages(deploy_request([quiet], startup_mode=0))
    [detail] = result.deploy_package_details
    assert detail.package_id == int(quiet) and detail.asy_subtask_num == 1
    assert sdk_gateway.wait_until_released(detail.asy_task_id)["status"] == "SUCCESSFUL"
    details = deployer.show_factory_package_detail(
        ShowFactoryPackageDetailRequest(package_id=quiet)
    )
    [quiet_job] = details.task_details
    assert details.release_package.deploy_status == 2
    assert (quiet_job.deploy_status, quiet_job.start_job_status) == (2, 0)

    # A released package cannot be released again: the service's refusal, through the SDK.
    with pytest.raises(ClientRequestException) as again:
        deployer.deploy_factory_packages(deploy_request([billing]))
    assert again.value.status_code == 400 and again.value.error_code == "DLF.3010"


def test_cancel_factory_packages(sdk_gateway: SdkGateway) -> None:
    withdrawn_item = sdk_gateway.submit("orders_etl")
    withdrawn = sdk_gateway.package("withdrawn", [withdrawn_item])
    rejected = sdk_gateway.package("rejected", [sdk_gateway.submit("billing")])

    # The applicant withdraws: 200 with no body, parsed as the SDK's empty response.
    cancelled = sdk_gateway.client("dev").cancel_factory_packages(
        CancelFactoryPackagesRequest(
            workspace="default", body=CancelFactoryPackagesRequestBody(package_ids=[withdrawn])
        )
    )
    assert isinstance(cancelled, CancelFactoryPackagesResponse)
    assert cancelled.status_code == 200 and not cancelled.raw_content
    # A deployer sends the other one back.
    deployer = sdk_gateway.client("deployer")
    cancelled = deployer.cancel_factory_packages(
        CancelFactoryPackagesRequest(body=CancelFactoryPackagesRequestBody(package_ids=[rejected]))
    )
    assert cancelled.status_code == 200 and not cancelled.raw_content

    for package_id, deploy_status in ((withdrawn, 7), (rejected, 6)):
        details = deployer.show_factory_package_detail(
            ShowFactoryPackageDetailRequest(package_id=package_id)
        )
        assert_wire(details, nullable=("deploy_timestamp", "deploy_user_id", "deploy_user_name"))
        assert details.release_package.deploy_status == deploy_status
        assert [t.deploy_status for t in details.task_details] == [deploy_status]
    sdk_gateway.wait_for(
        "/v2/demo/factory/pending-items?limit=100",
        lambda page: any(
            d["pending_item_id"] == withdrawn_item and d["package_flag"] == 0 for d in page["data"]
        ),
        "the withdrawn task to be pending again",
    )

    # Unknown package: the SDK raises its client error with our code and message.
    with pytest.raises(ClientRequestException) as unknown:
        deployer.cancel_factory_packages(
            CancelFactoryPackagesRequest(
                body=CancelFactoryPackagesRequestBody(package_ids=["12345"])
            )
        )
    assert unknown.value.status_code == 400
    assert unknown.value.error_code == "DLF.0810"
    assert unknown.value.error_msg == "Release package 12345 does not exist."
    assert unknown.value.request_id  # from X-Request-Id, for the caller to quote

    # Revoked already: no longer awaiting review.
    with pytest.raises(ClientRequestException) as decided:
        deployer.cancel_factory_packages(
            CancelFactoryPackagesRequest(
                body=CancelFactoryPackagesRequestBody(package_ids=[withdrawn])
            )
        )
    assert decided.value.status_code == 400 and decided.value.error_code == "DLF.3010"
