"""The one place where the overlay meets the generated code: operations by their operationId.

METHODS maps each `client.messages` method to the operationId it wraps; `make generate` checks it
against the spec (tools/check_operations.py). The generator names each operation's module after its
operationId in snake case; _GENERATED binds them back to operationIds (the imports for type checkers
say the same). They, and the models of component schemas named here by their spec names, are the
only generated names the overlay uses: a renamed operation costs a line (tests/test_pipeline.py
holds the overlay to that).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from telnyx_messages_api.api import (
        cancel_message as CancelMessage,
    )
    from telnyx_messages_api.api import (
        create_group_mms_message as CreateGroupMmsMessage,
    )
    from telnyx_messages_api.api import (
        create_long_code_message as CreateLongCodeMessage,
    )
    from telnyx_messages_api.api import (
        create_number_pool_message as CreateNumberPoolMessage,
    )
    from telnyx_messages_api.api import (
        create_short_code_message as CreateShortCodeMessage,
    )
    from telnyx_messages_api.api import (
        get_group_mms_messages as GetGroupMmsMessages,
    )
    from telnyx_messages_api.api import (
        get_message as GetMessage,
    )
    from telnyx_messages_api.api import (
        schedule_message as ScheduleMessage,
    )
    from telnyx_messages_api.api import (
        send_alphanumeric_sender_id_message as SendAlphanumericSenderIdMessage,
    )
    from telnyx_messages_api.api import (
        send_message as SendMessage,
    )
    from telnyx_messages_api.models import MessagingErrors  # components/schemas/messaging_Errors

# Imported on first use: a program that sends messages never loads the models of the others.
_GENERATED: Final = {
    "CancelMessage": ("telnyx_messages_api.api", "cancel_message"),
    "CreateGroupMmsMessage": ("telnyx_messages_api.api", "create_group_mms_message"),
    "CreateLongCodeMessage": ("telnyx_messages_api.api", "create_long_code_message"),
    "CreateNumberPoolMessage": ("telnyx_messages_api.api", "create_number_pool_message"),
    "CreateShortCodeMessage": ("telnyx_messages_api.api", "create_short_code_message"),
    "GetGroupMmsMessages": ("telnyx_messages_api.api", "get_group_mms_messages"),
    "GetMessage": ("telnyx_messages_api.api", "get_message"),
    "ScheduleMessage": ("telnyx_messages_api.api", "schedule_message"),
    "SendAlphanumericSenderIdMessage": ("telnyx_messages_api.api", "send_alphanumeric_sender_id_message"),
    "SendMessage": ("telnyx_messages_api.api", "send_message"),
    "MessagingErrors": ("telnyx_messages_api.models", "MessagingErrors"),
}


def __getattr__(name: str) -> Any:
    try:
        package, attribute = _GENERATED[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(package), attribute)
    globals()[name] = value
    return value


METHODS: Final = {
    "send": "SendMessage",
    "send_with_alphanumeric_sender": "SendAlphanumericSenderIdMessage",
    "retrieve_group_messages": "GetGroupMmsMessages",
    "send_group_mms": "CreateGroupMmsMessage",
    "send_long_code": "CreateLongCodeMessage",
    "send_number_pool": "CreateNumberPoolMessage",
    "schedule": "ScheduleMessage",
    "send_short_code": "CreateShortCodeMessage",
    "cancel_scheduled": "CancelMessage",
    "retrieve": "GetMessage",
}

__all__ = [
    "METHODS",
    "CancelMessage",
    "CreateGroupMmsMessage",
    "CreateLongCodeMessage",
    "CreateNumberPoolMessage",
    "CreateShortCodeMessage",
    "GetGroupMmsMessages",
    "GetMessage",
    "MessagingErrors",
    "ScheduleMessage",
    "SendAlphanumericSenderIdMessage",
    "SendMessage",
]
