"""The start-up floor: the least a typer CLI that reads a YAML spec with numpy at hand can do.

It imports what nncalc cannot avoid (typer, numpy, PyYAML with libyaml), parses the same file
with `yaml.load(..., Loader=CSafeLoader)`, touches numpy once and prints one JSON line.
`benchmarks/startup.py` times `nncalc backprop FILE --format json` against it.

    python benchmarks/floor_app.py examples/homework.yaml
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import typer
import yaml

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


@app.command()
def main(spec: str) -> None:
    """Load SPEC (YAML) and print one JSON line."""
    data: Any = yaml.load(Path(spec).read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    params = data.get("params", {}) if isinstance(data, dict) else {}
    values = np.asarray([float(v) for v in params.values()], dtype=np.float64)
    print(json.dumps({"source": spec, "params": len(values), "sum": float(values.sum())}))


if __name__ == "__main__":
    app()
