"""The httpx adapter openapi-core lacks: an httpx2.Request seen as openapi-core's Request protocol."""

from __future__ import annotations

from http.cookies import SimpleCookie
from urllib.parse import parse_qs

import httpx2
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict


class HttpxOpenAPIRequest:
    def __init__(self, request: httpx2.Request) -> None:
        self.request = request
        cookies = SimpleCookie(request.headers.get("Cookie", ""))
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qs(request.url.query.decode())),
            header=Headers(list(request.headers.multi_items())),
            cookie=ImmutableMultiDict({name: morsel.value for name, morsel in cookies.items()}),
        )

    @property
    def host_url(self) -> str:
        url = self.request.url
        return f"{url.scheme}://{url.netloc.decode()}"

    @property
    def path(self) -> str:
        return self.request.url.path

    @property
    def method(self) -> str:
        return self.request.method.lower()

    @property
    def body(self) -> bytes | None:
        return self.request.content or None

    @property
    def content_type(self) -> str:
        return self.request.headers.get("Content-Type", "").lower()
