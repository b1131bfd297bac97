"""telnyx_messages: a fast, safe client for the Telnyx Messages API.

from telnyx_messages import Telnyx

client = Telnyx()  # reads TELNYX_API_KEY
group = client.messages.retrieve_group_messages("182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e")

The models the methods return (MessageSendResponse, OutboundMessagePayload, ...) are importable
from here; every model, and the webhook events' union, from telnyx_messages.types.
"""

from typing import TYPE_CHECKING, Any

import telnyx_messages._api.results as _results
from telnyx_messages._api.types import (
    NOT_GIVEN,
    AsyncAPIResponse,
    AsyncStreamedAPIResponse,
    BodyConsumedError,
    NotGiven,
    StreamedAPIResponse,
)

from ._client import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    APIResponse,
    AsyncTelnyx,
    Telnyx,
)
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    ConflictError,
    ErrorDetail,
    InternalServerError,
    MissingDependencyError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseTooLargeError,
    SpendLimitError,
    TelnyxError,
    UnprocessableEntityError,
)
from ._http_clients import DefaultAioHttpClient, DefaultAsyncHttpxClient, DefaultHttpxClient
from ._version import __version__

if TYPE_CHECKING:
    from telnyx_messages._api.results import *  # noqa: F403

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "NOT_GIVEN",
    "APIConnectionError",
    "APIError",
    "APIResponse",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncAPIResponse",
    "AsyncStreamedAPIResponse",
    "AsyncTelnyx",
    "AuthenticationError",
    "BadRequestError",
    "BodyConsumedError",
    "ClientClosedError",
    "ConflictError",
    "DefaultAioHttpClient",
    "DefaultAsyncHttpxClient",
    "DefaultHttpxClient",
    "ErrorDetail",
    "InternalServerError",
    "MissingDependencyError",
    "NotFoundError",
    "NotGiven",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseTooLargeError",
    "SpendLimitError",
    "StreamedAPIResponse",
    "Telnyx",
    "TelnyxError",
    "UnprocessableEntityError",
    "__version__",
]
__all__ += _results.__all__


def __getattr__(name: str) -> Any:
    if name in ("types", "webhooks"):  # the public submodules, as dir() lists them
        import importlib

        return importlib.import_module(f".{name}", __name__)
    # The result models are imported on first use, as telnyx_messages.types imports them.
    if name in _results.__all__:
        from . import types

        return getattr(types, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return [*__all__, "types", "webhooks"]
