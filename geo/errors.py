"""Domain errors: failures a caller can act on. Messages are safe to show to users."""


class DomainError(Exception):
    """Base for failures a caller can act on."""
