"""Plain ``str`` and ``Path`` parameters without pydantic.

Since typer 0.22, every non-flag parameter is coerced through a pydantic ``TypeAdapter``;
importing pydantic for that costs about 125 ms on the pilot's machines, which is more than a
third of the start-up budget of a command a clerk runs dozens of times a day. Plain text and
path parameters need no validation beyond "is a string", so this module gives them a trivial
coercion and leaves every other parameter (ints with ranges, choices, lists, files) to typer.

It hooks one documented-by-source method (``_TyperParameter.get_runtime_param``); if a future
typer changes it, :func:`install` does nothing and typer's own coercion runs. The test
``test_fastparams_agree_with_typer`` checks both give the same values.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


def install() -> bool:
    """Install the fast path; return False (and change nothing) if typer's internals moved."""
    try:
        from typer import core
        from typer._coercion import RuntimeParam
    except ImportError:  # pragma: no cover - older or newer typer
        return False
    cls = getattr(core, "_TyperParameter", None)
    original = getattr(cls, "get_runtime_param", None)
    if cls is None or original is None or getattr(original, "_edoc_fast", False):
        return False

    @dataclass(frozen=True)
    class _Plain(RuntimeParam):
        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            if self.annotation is bool:
                if isinstance(value, bool):
                    return value
                text = str(value).strip().lower()
                if text in ("1", "true", "yes", "on", "y", "t"):
                    return True
                if text in ("0", "false", "no", "off", "n", "f"):
                    return False
            elif isinstance(value, str):
                return Path(value) if self.annotation is Path else value
            if isinstance(value, Path) and self.annotation is Path:
                return value
            from typer import BadParameter

            raise BadParameter(f"{value!r} is not text", ctx=ctx, param=param)

    def get_runtime_param(self: Any) -> Any:
        if self._runtime_param is None:
            desc = self.type_descriptor
            info = desc.parameter_info
            plain = (
                desc.annotation in (str, Path, bool)
                and desc.file_annotation is None
                and not desc.is_choice
                and getattr(info, "parser", None) is None
                and getattr(info, "click_type", None) is None
                and not any(
                    getattr(info, flag, None) for flag in ("exists", "resolve_path", "allow_dash", "readable_only")
                )
                and getattr(info, "file_okay", True) is not False
                and getattr(info, "dir_okay", True) is not False
                and getattr(info, "writable", False) is False
            )
            if plain:
                self._runtime_param = _Plain(parameter_info=info, annotation=desc.annotation)
        return original(self)

    get_runtime_param._edoc_fast = True  # type: ignore[attr-defined]
    cls.get_runtime_param = get_runtime_param
    return True
