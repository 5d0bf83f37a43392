"""pytest-codeblocks' page parser (CodeBlock, extract_from_file) without its
pytest plugin.

`import pytest_codeblocks` runs the package's __init__, which imports its
pytest plugin and so pytest. Its parser, pytest_codeblocks/main.py, needs only
the standard library: the site's hooks load that one file, so they count
blocks with the very parser the harness runs them with, and need no pytest.
Under pytest the plugin has already imported it, and that module is used.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

_PARSER = "pytest_codeblocks.main"


def _parser() -> ModuleType:
    if _PARSER in sys.modules:
        return sys.modules[_PARSER]
    package = importlib.util.find_spec("pytest_codeblocks")  # finds it; does not run it
    if package is None or not package.submodule_search_locations:
        raise ImportError("pytest-codeblocks is not installed "
                          "(the test extra: pip install -e '.[test]')")
    path = Path(list(package.submodule_search_locations)[0]) / "main.py"
    spec = importlib.util.spec_from_file_location(_PARSER, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Under its own name: a later `import pytest_codeblocks` reuses it, so
    # there is one CodeBlock class.
    sys.modules[_PARSER] = module
    spec.loader.exec_module(module)
    return module


CodeBlock = _parser().CodeBlock
extract_from_file = _parser().extract_from_file
extract_from_buffer = _parser().extract_from_buffer
