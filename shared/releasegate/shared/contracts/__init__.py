"""Every message contract, registered once. Importing this package loads the catalogue."""

from releasegate.shared.contracts import deploy, packages, rpc, service, tasks, upstream
from releasegate.shared.contracts.envelope import (
    Contract,
    Envelope,
    Payload,
    all_contracts,
    contract,
    lookup,
)

__all__ = [
    "Contract",
    "Envelope",
    "Payload",
    "all_contracts",
    "contract",
    "deploy",
    "lookup",
    "packages",
    "rpc",
    "service",
    "tasks",
    "upstream",
]
