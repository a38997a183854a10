"""Facts about the service itself."""

from importlib.metadata import PackageNotFoundError, version

import strawberry


def _version() -> str:
    try:
        return version("circle")
    except PackageNotFoundError:
        return "0+unknown"


@strawberry.type
class MetaQuery:
    @strawberry.field(description="Version of the Circle service answering.")
    def api_version(self) -> str:
        return _version()
