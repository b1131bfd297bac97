"""The package's `$ref` resolver (overlay/telnyx_messages/_spec_refs.py) for the tools, loaded by
its path: importing telnyx_messages would need the generated code the tools make."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING

__all__ = ["RefError", "located", "pointer_parts", "resolve", "target"]

if TYPE_CHECKING:
    from telnyx_messages._spec_refs import RefError, located, pointer_parts, resolve, target
else:
    _NAME = "_telnyx_messages_spec_refs"
    if _NAME not in sys.modules:
        # The project's overlay, or the src/ of tools/mutation.py's workspace (which has no overlay/).
        _root = Path(__file__).resolve().parent.parent
        _path = next(
            path
            for path in (
                _root / "overlay" / "telnyx_messages" / "_spec_refs.py",
                _root / "src" / "telnyx_messages" / "_spec_refs.py",
            )
            if path.exists()
        )
        _spec = importlib.util.spec_from_file_location(_NAME, _path)
        sys.modules[_NAME] = importlib.util.module_from_spec(_spec)
        _spec.loader.exec_module(sys.modules[_NAME])
    _refs = sys.modules[_NAME]
    RefError, located, pointer_parts, resolve, target = (
        _refs.RefError,
        _refs.located,
        _refs.pointer_parts,
        _refs.resolve,
        _refs.target,
    )
