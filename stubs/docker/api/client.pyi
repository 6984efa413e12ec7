from collections.abc import Iterator
from typing import Any, Literal, overload

import requests
from docker.tls import TLSConfig

class APIClient(requests.Session):
    base_url: str
    timeout: int
    def __init__(
        self,
        base_url: str | None = None,
        version: str | None = None,
        timeout: int = ...,
        tls: bool | TLSConfig = False,
        user_agent: str = ...,
        num_pools: int | None = None,
        credstore_env: dict[str, str] | None = None,
        use_ssh_client: bool = False,
        max_pool_size: int = ...,
    ) -> None: ...
    @property
    def api_version(self) -> str: ...
    def ping(self) -> bool: ...
    def version(self, api_version: bool = True) -> dict[str, Any]: ...
    def info(self) -> dict[str, Any]: ...
    def close(self) -> None: ...
    # images
    def inspect_image(self, image: str) -> dict[str, Any]: ...
    def get_image(self, image: str, chunk_size: int | None = ...) -> Iterator[bytes]: ...
    def remove_image(self, image: str, force: bool = False, noprune: bool = False) -> Any: ...
    def tag(
        self, image: str, repository: str, tag: str | None = None, force: bool = False
    ) -> bool: ...
    @overload
    def pull(
        self,
        repository: str,
        tag: str | None = None,
        *,
        stream: Literal[True],
        auth_config: dict[str, str] | None = None,
        decode: Literal[True],
        platform: str | None = None,
        all_tags: bool = False,
    ) -> Iterator[dict[str, Any]]: ...
    @overload
    def pull(
        self,
        repository: str,
        tag: str | None = None,
        stream: bool = False,
        auth_config: dict[str, str] | None = None,
        decode: bool = False,
        platform: str | None = None,
        all_tags: bool = False,
    ) -> Any: ...
