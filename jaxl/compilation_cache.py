"""Keep compiled XLA programs on disk, so that a run does not compile what an earlier one did.

Compiling a learner's jitted update takes seconds on CPU (about 2 to 3 s for SAC on Hopper). Every
``jaxl`` command turns on JAX's persistent compilation cache, so the second run of a config (the
next seed of a sweep, a resumed run, an evaluation) loads the programs instead of compiling
them. JAX keys each entry on the program, the JAX and XLA versions, the device and the compiler
flags, so a stale entry is never used.

Where it lives: ``$JAXL_COMPILATION_CACHE`` if set, otherwise ``$XDG_CACHE_HOME/jaxl/xla``
(``~/.cache/jaxl/xla``). Setting ``JAXL_COMPILATION_CACHE=off`` turns it off. It holds at most
:data:`MAX_CACHE_BYTES`; the least recently used programs are evicted first. Reads and writes
take a file lock, so parallel runs of a sweep can share one cache.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "JAXL_COMPILATION_CACHE"
"""The environment variable that names the cache directory, or ``off``."""

DISABLED_VALUES = frozenset({"off", "0", "false", "no", "none"})
"""Values of :data:`ENV_VAR` (any case) that turn the cache off."""

MAX_CACHE_BYTES = 2 << 30
"""Size limit of the cache directory (2 GiB)."""

MIN_COMPILE_SECONDS = 0.2
"""Programs that compile faster than this are not worth a disk entry."""


def cache_dir(environ: dict[str, str] | None = None) -> Path | None:
    """The cache directory the environment asks for, or ``None`` when the cache is off.

    :param environ: the environment to read (``os.environ`` by default).
    :returns: the directory (not created here), or ``None``.
    """
    environ = os.environ if environ is None else environ
    value = environ.get(ENV_VAR)
    if value is not None:
        if value.strip().lower() in DISABLED_VALUES or not value.strip():
            return None
        return Path(value).expanduser()
    base = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "jaxl" / "xla"


def enable_compilation_cache(directory: Path | None = None) -> Path | None:
    """Turn on JAX's persistent compilation cache in ``directory``.

    :param directory: where to keep compiled programs; by default :func:`cache_dir`.
    :returns: the directory in use, or ``None`` when the cache is off or the directory cannot
        be created (the run then compiles as usual; a cache is never a reason to fail).
    """
    directory = cache_dir() if directory is None else directory
    if directory is None:
        return None
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    import jax

    jax.config.update("jax_compilation_cache_dir", str(directory))
    jax.config.update("jax_compilation_cache_max_size", MAX_CACHE_BYTES)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_SECONDS)
    return directory
