"""Strict JSON: one object, full precision, never NaN or Infinity tokens."""

from __future__ import annotations

import json
from typing import Any

from . import Options


def render(data: dict[str, Any], options: Options) -> str:
    return json.dumps(data, allow_nan=False, ensure_ascii=False, indent=2) + "\n"
