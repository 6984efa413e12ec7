from docker.context.context import Context

class ContextAPI:
    DEFAULT_CONTEXT: Context
    @classmethod
    def get_context(cls, name: str | None = None) -> Context | None: ...
    @classmethod
    def get_current_context(cls) -> Context | None: ...
    @classmethod
    def contexts(cls) -> list[Context]: ...
