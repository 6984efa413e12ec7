from typing import Any

from docker.tls import TLSConfig

class Context:
    name: str
    def __init__(
        self,
        name: str,
        orchestrator: str | None = None,
        host: str | None = None,
        endpoints: dict[str, dict[str, Any]] | None = None,
        tls: bool = False,
    ) -> None: ...
    @classmethod
    def load_context(cls, name: str) -> Context | None: ...
    @property
    def Name(self) -> str: ...
    @property
    def Host(self) -> str | None: ...
    @property
    def TLSConfig(self) -> TLSConfig | None: ...
    @property
    def Metadata(self) -> dict[str, Any]: ...
