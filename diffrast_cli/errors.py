"""Errors a user can cause or fix. The CLI turns each into one line and exit code 2.
Also: how a user's value or key is shown inside such a line."""

import reprlib



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


# How user values and keys appear in messages: short, one line, never failing.

class _ShortRepr(reprlib.Repr):
    def repr_int(self, x, level):
        # str() of an int over sys.get_int_max_str_digits() digits raises ValueError
        if x.bit_length() > 13_000:                  # ~3,900 digits
            return f"<an integer of about {int(x.bit_length() * 0.30103) + 1} digits>"
        return super().repr_int(x, level)


_repr = _ShortRepr()
_repr.maxstring = 40
_repr.maxother = 40
_repr.maxlong = 40
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = _repr.maxfrozenset = 4
_repr.maxlevel = 2


def show_value(value) -> str:
    """A short, one-line rendering of a (possibly huge or cyclic) user value."""
    try:
        text = _repr.repr(value)
    except Exception:                                # a value whose repr fails: name its type
        text = f"<{type(value).__name__}>"
    return " ".join(text.split())


def short_key(key) -> str:
    """A dotted key as shown in a message: very long keys are cut in the middle."""
    key = str(key)
    return key if len(key) <= 80 else f"{key[:60]}...{key[-16:]} ({len(key)} characters)"


def one_line(exc) -> str:
    """An exception's message (or any text) on one line; the class name if it is empty."""
    return " ".join(str(exc).split()) or exc.__class__.__name__
