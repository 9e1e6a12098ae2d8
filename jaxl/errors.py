"""The exception that means bad input, which the ``jaxl`` command reports as one clear line.

Every error JAXL raises about what it was given (a config, a file, an env id, a run directory,
a checkpoint, a device, a command-line value) is an :class:`InputError`. Any other exception is
a defect, and ``jaxl`` shows its traceback.
"""


class InputError(ValueError):
    """Bad input: the message names the culprit (a config key, a file, a flag) and what was
    expected. A :class:`ValueError`, so that code catching those keeps working."""
