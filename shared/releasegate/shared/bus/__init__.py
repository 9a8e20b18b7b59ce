from releasegate.shared.bus.base import (
    Bus,
    DeadLetter,
    Handler,
    Message,
    PermanentFailure,
    Subscription,
)

__all__ = ["Bus", "DeadLetter", "Handler", "Message", "PermanentFailure", "Subscription"]
