"""The models of what client.messages sends and receives, by their names, for annotating your own
code: `from telnyx_messages.types import MessageRetrieveGroupMessagesResponse, OutboundMessagePayload`,
and the webhook events' union, `WebhookEvent`; `SequenceNotStr`, the type of array arguments (any
sequence but a str or bytes: a list, a tuple); `RateLimit`, a response's request-limit headers parsed.

Each is imported on first use (importing them all up front would cost every program the models it
never touches); type checkers see them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import telnyx_messages._api.models as _models
from telnyx_messages._api.results import ALIASES as _ALIASES
from telnyx_messages._api.types import SequenceNotStr as SequenceNotStr
from telnyx_messages._api.webhooks import UnknownWebhookEvent as UnknownWebhookEvent
from telnyx_messages._api.webhooks import WebhookEvent as WebhookEvent

from ._rate_limits import RateLimit as RateLimit

if TYPE_CHECKING:
    from telnyx_messages._api.models import *  # noqa: F403
    from telnyx_messages._api.results import *  # noqa: F403


def __getattr__(name: str) -> Any:
    # The official SDK's name of a result whose model the spec names otherwise (MessageWhatsappResponse).
    return getattr(_models, _ALIASES.get(name, name))


def __dir__() -> list[str]:
    return [*_models.__all__, *_ALIASES, "RateLimit", "SequenceNotStr", "UnknownWebhookEvent", "WebhookEvent"]


# No __all__: type checkers take every name of the star import above as exported (an __all__ here
# would hide the models from Pyright).
