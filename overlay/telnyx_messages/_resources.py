"""client.messages: one method per operation, named like the official telnyx SDK's.

The sync and async classes are thin shells: arguments go to the client's one core unchanged.
Body fields are keyword arguments typed by the generated Params of each request body.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, Unpack
from uuid import UUID

from . import _operations
from ._client import NOT_GIVEN, APIResponse, TimeoutTypes, raw_response_sink

if TYPE_CHECKING:
    from ._client import AsyncTelnyx, Telnyx
    from ._operations import (
        CancelMessage,
        CreateGroupMmsMessage,
        CreateLongCodeMessage,
        CreateNumberPoolMessage,
        CreateShortCodeMessage,
        GetGroupMmsMessages,
        GetMessage,
        ScheduleMessage,
        SendAlphanumericSenderIdMessage,
        SendMessage,
    )


__all__ = ["AsyncMessages", "AsyncMessagesWithRawResponse", "Messages", "MessagesWithRawResponse"]

P = ParamSpec("P")
R = TypeVar("R")


def _raw(method: Callable[P, R]) -> Callable[P, APIResponse[R]]:
    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> APIResponse[R]:
        sink: list[APIResponse[Any]] = []
        token = raw_response_sink.set(sink)
        try:
            method(*args, **kwargs)
        finally:
            raw_response_sink.reset(token)
        return sink[-1]

    return call


def _async_raw(method: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[APIResponse[R]]]:
    @functools.wraps(method)
    async def call(*args: P.args, **kwargs: P.kwargs) -> APIResponse[R]:
        sink: list[APIResponse[Any]] = []
        token = raw_response_sink.set(sink)
        try:
            await method(*args, **kwargs)
        finally:
            raw_response_sink.reset(token)
        return sink[-1]

    return call


class Messages:
    def __init__(self, client: Telnyx) -> None:
        self._client = client

    @property
    def with_raw_response(self) -> MessagesWithRawResponse:
        """The same methods, returning an APIResponse (status, headers, parsed model)."""
        return MessagesWithRawResponse(self)

    def send(
        self,
        *,
        idempotency_key: str | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
        max_retries: int | None = None,
        **params: Unpack[SendMessage.Params],
    ) -> SendMessage.Success:
        """Send a message with a phone number, alphanumeric sender ID, short code or number pool. (SendMessage)"""
        return self._client._request(
            _operations.SendMessage,
            {},
            dict(params),
            result=_operations.SendMessage.Success,
            method_name="send",
            timeout=timeout,
            max_retries=max_retries,
            idempotency_key=idempotency_key,
        )

    def send_with_alphanumeric_sender(
        self,
        *,
        idempotency_key: str | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
        max_retries: int | None = None,
        **params: Unpack[SendAlphanumericSenderIdMessage.Params],
    ) -> SendAlphanumericSenderIdMessage.Success:
        """Send an SMS with an alphanumeric sender ID. (SendAlphanumericSenderIdMessage)"""
        return self._client._request(
            _operations.SendAlphanumericSenderIdMessage,
            {},
            dict(params),
            result=_operations.SendAlphanumericSenderIdMessage.Success,
            method_name="send_with_alphanumeric_sender",
            timeout=timeout,
            max_retries=max_retries,
            idempotency_key=idempotency_key,
        )

    def retrieve_group_messages(
        self, message_id: str | UUID, *, timeout: TimeoutTypes = NOT_GIVEN, max_retries: int | None = None
    ) -> GetGroupMmsMessages.Success:
        """Retrieve all messages of a group MMS conversation. (GetGroupMmsMessages)"""
        return self._client._request(
            _operations.GetGroupMmsMessages,
            {"message_id": message_id},
            None,
            result=_operations.GetGroupMmsMessages.Success,
            method_name="retrieve_group_messages",
            timeout=timeout,
            max_retries=max_retries,
        )

    def send_group_mms(
        self,
        *,
        idempotency_key: str | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
        max_retries: int | None = None,
        **params: Unpack[CreateGroupMmsMessage.Params],
    ) -> CreateGroupMmsMessage.Success:
        """Send a group MMS message. (CreateGroupMmsMessage)"""
        return self._client._request(
            _operations.CreateGroupMmsMessage,
            {},
            dict(params),
            result=_operations.CreateGroupMmsMessage.Success,
            method_name="send_group_mms",
            timeout=timeout,
            max_retries=max_retries,
            idempotency_key=idempotency_key,
        )

    def send_long_code(
        self,
        *,
        idempotency_key: str | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
        max_retries: int | None = None,
        **params: Unpack[CreateLongCodeMessage.Params],
    ) -> CreateLongCodeMessage.Success:
        """Send a long code message. (CreateLongCodeMessage)"""
        return self._client._request(
            _operations.CreateLongCodeMessage,
            {},
            dict(params),
            result=_operations.CreateLongCodeMessage.Success,
            method_name="send_long_code",
            timeout=timeout,
            max_retries=max_retries,
            idempotency_key=idempotency_key,
        )

    def send_number_pool(
        self,
        *,
        idempotency_key: str | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
        max_retries: int | None = None,
        **params: Unpack[CreateNumberPoolMessage.Params],
    ) -> CreateNumberPoolMessage.Success:
        """Send a message using a number pool. (CreateNumberPoolMessage)"""
        return self._client._request(
            _operations.CreateNumberPoolMessage,
            {},
            dict(params),
            result=_operations.CreateNumberPoolMessage.Success,
            method_name="send_number_pool",
            timeout=timeout,
            max_retries=max_retries,
            idempotency_key=idempotency_key,
        )

    def schedule(
        self,
        *,
        idempotency_key: str | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
        max_retries: int | None = None,
        **params: Unpack[ScheduleMessage.Params],
    ) -> ScheduleMessage.Success:
        """Schedule a message. (ScheduleMessage)"""
        return self._client._request(
            _operations.ScheduleMessage,
            {},
            dict(params),
            result=_operations.ScheduleMessage.Success,
            method_name="schedule",
            timeout=timeout,
            max_retries=max_retries,
            idempotency_key=idempotency_key,
        )

    def send_short_code(
        self,
        *,
        idempotency_key: str | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
        max_retries: int | None = None,
        **params: Unpack[CreateShortCodeMessage.Params],
    ) -> CreateShortCodeMessage.Success:
        """Send a short code message. (CreateShortCodeMessage)"""
        return self._client._request(
            _operations.CreateShortCodeMessage,
            {},
            dict(params),
            result=_operations.CreateShortCodeMessage.Success,
            method_name="send_short_code",
            timeout=timeout,
            max_retries=max_retries,
            idempotency_key=idempotency_key,
        )

    def cancel_scheduled(
        self, id: str | UUID, *, timeout: TimeoutTypes = NOT_GIVEN, max_retries: int | None = None
    ) -> CancelMessage.Success:
        """Cancel a scheduled message that has not yet been sent. (CancelMessage)"""
        return self._client._request(
            _operations.CancelMessage,
            {"id": id},
            None,
            result=_operations.CancelMessage.Success,
            method_name="cancel_scheduled",
            timeout=timeout,
            max_retries=max_retries,
        )

    def retrieve(
        self, id: str | UUID, *, timeout: TimeoutTypes = NOT_GIVEN, max_retries: int | None = None
    ) -> GetMessage.Success:
        """Retrieve a message (outbound or inbound, by its direction). (GetMessage)"""
        return self._client._request(
            _operations.GetMessage,
            {"id": id},
            None,
            result=_operations.GetMessage.Success,
            method_name="retrieve",
            timeout=timeout,
            max_retries=max_retries,
        )


class AsyncMessages:
    def __init__(self, client: AsyncTelnyx) -> None:
        self._client = client

    @property
    def with_raw_response(self) -> AsyncMessagesWithRawResponse:
        """The same methods, returning an APIResponse (status, headers, parsed model)."""
        return AsyncMessagesWithRawResponse(self)

    async def send(
        self,
        *,
        idempotency_key: str | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
        max_retries: int | None = None,
        **params: Unpack[SendMessage.Params],
    ) -> SendMessage.Success:
        """Send a message with a phone number, alphanumeric sender ID, short code or number pool. (SendMessage)"""
        return await self._client._request(
            _operations.SendMessage,
            {},
            dict(params),
            result=_operations.SendMessage.Success,
            method_name="send",
            timeout=timeout,
            max_retries=max_retries,
            idempotency_key=idempotency_key,
        )

    async def send_with_alphanumeric_sender(
        self,
        *,
        idempotency_key: str | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
        max_retries: int | None = None,
        **params: Unpack[SendAlphanumericSenderIdMessage.Params],
    ) -> SendAlphanumericSenderIdMessage.Success:
        """Send an SMS with an alphanumeric sender ID. (SendAlphanumericSenderIdMessage)"""
        return await self._client._request(
            _operations.SendAlphanumericSenderIdMessage,
            {},
            dict(params),
            result=_operations.SendAlphanumericSenderIdMessage.Success,
            method_name="send_with_alphanumeric_sender",
            timeout=timeout,
            max_retries=max_retries,
            idempotency_key=idempotency_key,
        )

    async def retrieve_group_messages(
        self, message_id: str | UUID, *, timeout: TimeoutTypes = NOT_GIVEN, max_retries: int | None = None
    ) -> GetGroupMmsMessages.Success:
        """Retrieve all messages of a group MMS conversation. (GetGroupMmsMessages)"""
        return await self._client._request(
            _operations.GetGroupMmsMessages,
            {"message_id": message_id},
            None,
            result=_operations.GetGroupMmsMessages.Success,
            method_name="retrieve_group_messages",
            timeout=timeout,
            max_retries=max_retries,
        )

    async def send_group_mms(
        self,
        *,
        idempotency_key: str | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
        max_retries: int | None = None,
        **params: Unpack[CreateGroupMmsMessage.Params],
    ) -> CreateGroupMmsMessage.Success:
        """Send a group MMS message. (CreateGroupMmsMessage)"""
        return await self._client._request(
            _operations.CreateGroupMmsMessage,
            {},
            dict(params),
            result=_operations.CreateGroupMmsMessage.Success,
            method_name="send_group_mms",
            timeout=timeout,
            max_retries=max_retries,
            idempotency_key=idempotency_key,
        )

    async def send_long_code(
        self,
        *,
        idempotency_key: str | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
        max_retries: int | None = None,
        **params: Unpack[CreateLongCodeMessage.Params],
    ) -> CreateLongCodeMessage.Success:
        """Send a long code message. (CreateLongCodeMessage)"""
        return await self._client._request(
            _operations.CreateLongCodeMessage,
            {},
            dict(params),
            result=_operations.CreateLongCodeMessage.Success,
            method_name="send_long_code",
            timeout=timeout,
            max_retries=max_retries,
            idempotency_key=idempotency_key,
        )

    async def send_number_pool(
        self,
        *,
        idempotency_key: str | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
        max_retries: int | None = None,
        **params: Unpack[CreateNumberPoolMessage.Params],
    ) -> CreateNumberPoolMessage.Success:
        """Send a message using a number pool. (CreateNumberPoolMessage)"""
        return await self._client._request(
            _operations.CreateNumberPoolMessage,
            {},
            dict(params),
            result=_operations.CreateNumberPoolMessage.Success,
            method_name="send_number_pool",
            timeout=timeout,
            max_retries=max_retries,
            idempotency_key=idempotency_key,
        )

    async def schedule(
        self,
        *,
        idempotency_key: str | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
        max_retries: int | None = None,
        **params: Unpack[ScheduleMessage.Params],
    ) -> ScheduleMessage.Success:
        """Schedule a message. (ScheduleMessage)"""
        return await self._client._request(
            _operations.ScheduleMessage,
            {},
            dict(params),
            result=_operations.ScheduleMessage.Success,
            method_name="schedule",
            timeout=timeout,
            max_retries=max_retries,
            idempotency_key=idempotency_key,
        )

    async def send_short_code(
        self,
        *,
        idempotency_key: str | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
        max_retries: int | None = None,
        **params: Unpack[CreateShortCodeMessage.Params],
    ) -> CreateShortCodeMessage.Success:
        """Send a short code message. (CreateShortCodeMessage)"""
        return await self._client._request(
            _operations.CreateShortCodeMessage,
            {},
            dict(params),
            result=_operations.CreateShortCodeMessage.Success,
            method_name="send_short_code",
            timeout=timeout,
            max_retries=max_retries,
            idempotency_key=idempotency_key,
        )

    async def cancel_scheduled(
        self, id: str | UUID, *, timeout: TimeoutTypes = NOT_GIVEN, max_retries: int | None = None
    ) -> CancelMessage.Success:
        """Cancel a scheduled message that has not yet been sent. (CancelMessage)"""
        return await self._client._request(
            _operations.CancelMessage,
            {"id": id},
            None,
            result=_operations.CancelMessage.Success,
            method_name="cancel_scheduled",
            timeout=timeout,
            max_retries=max_retries,
        )

    async def retrieve(
        self, id: str | UUID, *, timeout: TimeoutTypes = NOT_GIVEN, max_retries: int | None = None
    ) -> GetMessage.Success:
        """Retrieve a message (outbound or inbound, by its direction). (GetMessage)"""
        return await self._client._request(
            _operations.GetMessage,
            {"id": id},
            None,
            result=_operations.GetMessage.Success,
            method_name="retrieve",
            timeout=timeout,
            max_retries=max_retries,
        )


class MessagesWithRawResponse:
    def __init__(self, messages: Messages) -> None:
        self.send = _raw(messages.send)
        self.send_with_alphanumeric_sender = _raw(messages.send_with_alphanumeric_sender)
        self.retrieve_group_messages = _raw(messages.retrieve_group_messages)
        self.send_group_mms = _raw(messages.send_group_mms)
        self.send_long_code = _raw(messages.send_long_code)
        self.send_number_pool = _raw(messages.send_number_pool)
        self.schedule = _raw(messages.schedule)
        self.send_short_code = _raw(messages.send_short_code)
        self.cancel_scheduled = _raw(messages.cancel_scheduled)
        self.retrieve = _raw(messages.retrieve)


class AsyncMessagesWithRawResponse:
    def __init__(self, messages: AsyncMessages) -> None:
        self.send = _async_raw(messages.send)
        self.send_with_alphanumeric_sender = _async_raw(messages.send_with_alphanumeric_sender)
        self.retrieve_group_messages = _async_raw(messages.retrieve_group_messages)
        self.send_group_mms = _async_raw(messages.send_group_mms)
        self.send_long_code = _async_raw(messages.send_long_code)
        self.send_number_pool = _async_raw(messages.send_number_pool)
        self.schedule = _async_raw(messages.schedule)
        self.send_short_code = _async_raw(messages.send_short_code)
        self.cancel_scheduled = _async_raw(messages.cancel_scheduled)
        self.retrieve = _async_raw(messages.retrieve)
