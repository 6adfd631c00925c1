"""One exception type for user mistakes, so the CLI can print one line instead of a traceback."""


class SuperposeError(Exception):
    """A problem with the user's input or environment; the message names the problem and the fix."""
