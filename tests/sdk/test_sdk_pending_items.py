"""The official SDK (huaweicloudsdkdataartsstudio) drives the gateway unchanged.
One test function per endpoint of API.md."""

from __future__ import annotations

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkdataartsstudio.v1 import ListFactoryPendingItemsRequest

from tests.events import version_submitted
from tests.sdk.conftest import SdkGateway
from tests.sdk.wire import assert_wire


def test_list_factory_pending_items(sdk_gateway: SdkGateway) -> None:
    for name, at in (("orders_etl", 1000), ("billing", 2000)):
        event = version_submitted(name, 2, submitter="u-dev", submitter_name="dev", at=at)
        sdk_gateway.request("POST", "/v2/demo/factory/events", event)
    sdk_gateway.wait_for(
        "/v2/demo/factory/pending-items", lambda page: page["total"] == 2, "two pending items"
    )
    client = sdk_gateway.client("dev")
    page = client.list_factory_pending_items(
        ListFactoryPendingItemsRequest(workspace="default", item_name="orders", limit=10)
    )
    assert page.status_code == 200 and page.total == 1
    assert_wire(page)
    item = page.data[0]
    assert item.item_name == "orders_etl" and item.pending_version == 2
    assert item.task_type == 1 and item.update_type == 1 and item.package_flag == 0
    assert item.submit_user_id == "u-dev" and item.project_id == "demo"
    assert item.pending_item_id.isdigit()
    every = client.list_factory_pending_items(
        ListFactoryPendingItemsRequest(update_type="1", offset=0)
    )
    assert every.total == 2 and [d.item_name for d in every.data] == ["billing", "orders_etl"]


def test_sdk_errors_carry_dlf_codes(sdk_gateway: SdkGateway) -> None:
    client = sdk_gateway.client("dev")
    with pytest.raises(ClientRequestException) as bad:
        client.list_factory_pending_items(ListFactoryPendingItemsRequest(limit=1000))
    assert bad.value.status_code == 400 and bad.value.error_code == "DLF.0802"
    with pytest.raises(ClientRequestException) as foreign:
        client.list_factory_pending_items(ListFactoryPendingItemsRequest(workspace="nowhere"))
    assert foreign.value.status_code == 403 and foreign.value.error_code == "DLF.6888"
