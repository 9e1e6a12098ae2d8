"""Sphinx configuration for the JAXL documentation (``make -C docs html``)."""

import importlib
import os
import re
import sys

sys.path.insert(0, os.path.abspath(".."))
os.environ.setdefault("JAX_PLATFORMS", "cpu")  # importing the package must not look for a GPU

import jaxl  # noqa: E402

project = "JAXL"
author = "JAXL contributors"
copyright = "JAXL contributors"
version = jaxl.__version__
release = jaxl.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.viewcode",
    "sphinx.ext.mathjax",
]

templates_path = ["_templates"]
exclude_patterns = ["_build"]

# The API pages are generated on every build into api/_autosummary/ (ignored by git).
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {
    "members": True,
    "show-inheritance": True,
    "member-order": "bysource",
    "undoc-members": True,
    # pydantic's model_config, and the fields flax adds to every module
    "exclude-members": "model_config, parent, name, scope",
}
autodoc_typehints = "signature"
autodoc_class_signature = "mixed"
autodoc_preserve_defaults = True

nitpicky = False
default_role = "literal"

html_theme = "alabaster"
html_title = f"JAXL {release}"
html_theme_options = {
    "description": "JAX reinforcement and imitation learning",
    "fixed_sidebar": True,
}


def _is_config_section(obj) -> bool:
    from jaxl.config.schema import Section

    return isinstance(obj, type) and issubclass(obj, Section)


def _is_flax_module(obj) -> bool:
    import flax.linen as nn

    return isinstance(obj, type) and issubclass(obj, nn.Module)


def _simplify_signature(app, what, name, obj, options, signature, return_annotation):
    """Config sections are documented field by field (and in configs.rst), so their generated
    keyword-only signatures, full of validator reprs, are left out; flax modules lose the
    ``parent`` and ``name`` arguments that flax adds to every module."""
    if what != "class":
        return None
    if _is_config_section(obj):
        return "", None
    if _is_flax_module(obj) and signature:
        return re.sub(r",\s*parent:.*\)$", ")", signature), return_annotation
    return None


def _canonical_name(target: str) -> str | None:
    """``jaxl.config.EnvConfig`` -> ``jaxl.config.schema.EnvConfig``: where a re-exported object
    is defined (and documented)."""
    parts = target.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        try:
            for attr in parts[split:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
        if module and qualname and module.startswith("jaxl"):
            return f"{module}.{qualname}"
        return None
    return None


def _resolve_reexport(app, env, node, contnode):
    """Resolve references to names that a package re-exports (``jaxl.buffers.Transitions``) to the
    page of the module that defines them."""
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or not target.startswith("jaxl."):
        return None
    canonical = _canonical_name(target)
    if canonical is None or canonical == target:
        return None
    domain = env.get_domain("py")
    return domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], canonical, node, contnode
    )


def _write_env_table(app):
    """docs/_generated/envs_table.rst, from the shipped parameter specs, on every build."""
    from pathlib import Path

    from jaxl.envs.catalog import specs_table_rst

    out = Path(app.srcdir) / "_generated" / "envs_table.rst"
    out.parent.mkdir(exist_ok=True)
    text = specs_table_rst()
    if not out.exists() or out.read_text() != text:
        out.write_text(text)


def setup(app):
    app.connect("builder-inited", _write_env_table)
    app.connect("autodoc-process-signature", _simplify_signature)
    app.connect("missing-reference", _resolve_reexport)
