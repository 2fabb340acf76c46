"""The knowledge base as data: where it lives, how it is built from the guide, loaded and checked."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

#: Environment variable naming the knowledge directory to use.
ENV_VAR = "HOC_KNOWLEDGE_DIR"


def default_kb_dir(env: Mapping[str, str] | None = None) -> Path:
    """The knowledge directory to use.

    Args:
        env: Environment mapping; ``HOC_KNOWLEDGE_DIR`` in it wins.

    Returns:
        ``HOC_KNOWLEDGE_DIR`` when set, else the repository's ``knowledge/`` next to the ``bot``
        package (a source checkout), else ``bot/_data/knowledge`` inside the installed package.
    """
    if env is not None and env.get(ENV_VAR, "").strip():
        return Path(env[ENV_VAR].strip()).expanduser()
    package = Path(__file__).resolve().parent.parent
    checkout = package.parent / "knowledge"
    if (checkout / "links.yaml").is_file() and (checkout / "entries").is_dir():
        return checkout
    return package / "_data" / "knowledge"
