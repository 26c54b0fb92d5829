"""Finding strategies: by name through entry points, or from ``path/to/file.py:ClassName``."""

from __future__ import annotations

import importlib.util
import sys
import traceback
from importlib.metadata import entry_points
from pathlib import Path

from framework.errors import ParameterError
from framework.params import did_you_mean
from framework.strategy import Strategy

__all__ = ["ENTRY_POINT_GROUP", "available_strategies", "load_strategy"]

#: Packages add strategies by declaring entry points in this group.
ENTRY_POINT_GROUP = "parity.strategies"


def available_strategies() -> dict[str, type[Strategy]]:
    """Every installed strategy by name (entry points of `ENTRY_POINT_GROUP`)."""
    found: dict[str, type[Strategy]] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        found[point.name] = _checked(point.load(), point.value)
    return dict(sorted(found.items()))


def load_strategy(spec: str) -> type[Strategy]:
    """The strategy class named ``spec``, or defined at ``path/to/file.py:ClassName``.

    Examples
    --------
    >>> load_strategy("ma_unified").name
    'ma_unified'
    >>> load_strategy("ma_unifed")
    Traceback (most recent call last):
    ...
    framework.errors.ParameterError: unknown strategy 'ma_unifed'; did you mean 'ma_unified'? \
(installed: ma_unified)
    """
    path, colon, class_name = spec.rpartition(":")
    if colon and path.endswith(".py"):
        return _from_file(Path(path), class_name)
    if spec.endswith(".py"):
        raise ParameterError(f"strategy {spec!r}: name the class too, as {spec}:ClassName")
    points = {point.name: point for point in entry_points(group=ENTRY_POINT_GROUP)}
    if spec not in points:
        installed = ", ".join(sorted(points)) or "none"
        hint = did_you_mean(spec, list(points))
        raise ParameterError(f"unknown strategy {spec!r}{hint} (installed: {installed})")
    return _checked(points[spec].load(), spec)


def _from_file(path: Path, class_name: str) -> type[Strategy]:
    if not path.is_file():
        raise ParameterError(f"strategy file {path} does not exist")
    module_name = f"parity_user_strategy_{abs(hash(path.resolve()))}"
    module_spec = importlib.util.spec_from_file_location(module_name, path)
    if module_spec is None or module_spec.loader is None:
        raise ParameterError(f"cannot import {path} as a Python module")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_name] = module
    try:
        module_spec.loader.exec_module(module)
    except (Exception, SystemExit) as error:  # whatever the user's code raises: one line
        del sys.modules[module_name]
        raise ParameterError(_import_failure(path, error)) from None
    if not hasattr(module, class_name):
        classes = [n for n, v in vars(module).items() if isinstance(v, type)]
        hint = did_you_mean(class_name, classes)
        raise ParameterError(f"{path} has no class {class_name!r}{hint}")
    return _checked(getattr(module, class_name), f"{path}:{class_name}")


def _import_failure(path: Path, error: BaseException) -> str:
    """``file:line: what`` for an exception raised while importing the file ``path``.

    A syntax error names its own line; any other error the deepest line of ``path``
    that the traceback passes through (the import, the raise, the bad expression).
    """
    if isinstance(error, SyntaxError) and error.filename and error.lineno:
        return f"cannot import {error.filename}:{error.lineno}: {error.msg}"
    own = path.resolve()
    lines = [
        frame.lineno
        for frame in traceback.extract_tb(error.__traceback__)
        if frame.lineno is not None and Path(frame.filename).resolve() == own
    ]
    where = f"{path}:{lines[-1]}" if lines else str(path)
    return f"cannot import {where}: {type(error).__name__}: {error}"


def _checked(candidate: object, origin: str) -> type[Strategy]:
    if not (isinstance(candidate, type) and issubclass(candidate, Strategy)):
        raise ParameterError(f"{origin} is not a Strategy subclass")
    if not candidate.name:
        raise ParameterError(f"{origin} has no strategy name (set the class attribute 'name')")
    return candidate
