"""Errors a user can cause or fix. The CLI turns each into one line and exit code 2."""


class DiffrastError(Exception):
    """Base of every error that is reported as a one-line message (exit code 2)."""

    kind = "error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(DiffrastError):
    """A job file or override is missing, unreadable, malformed or invalid."""

    kind = "config error"


class InputError(DiffrastError):
    """An input asset (image, mesh) is missing, unreadable or corrupt."""

    kind = "input error"


class GLError(DiffrastError):
    """No usable OpenGL 4.3 context, a missing capability, or a shader that does not build."""

    kind = "GL error"


class LimitError(DiffrastError):
    """A job that exceeds what the device can hold."""

    kind = "limit error"


class OutputError(DiffrastError):
    """The output folder cannot be created or written."""

    kind = "output error"


class NumericalError(DiffrastError):
    """The optimisation produced non-finite values (the run stops, keeping its last good checkpoint)."""

    kind = "numerical error"
