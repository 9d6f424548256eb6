"""Where the files the pipeline ships with live, and reading them: the paper's tables and the reference tables
(`assets/sources/<schema>/*.csv`), the KOSIS catalog (`assets/sources/kosis/catalog.yaml`) and the paper's
figures in KOSIS form. The registry (`schemas/`) names files relative to this folder and reads none."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from schemas.kosis import KosisTable, parse_catalog
from schemas.registry import TableSpec

SOURCES_DIR = Path(__file__).resolve().parent / "sources"
CATALOG_PATH = SOURCES_DIR / "kosis" / "catalog.yaml"


def table_file(spec: TableSpec, root: Path | str = SOURCES_DIR) -> Path:
    """The file a paper or reference table is loaded from."""
    return Path(root) / spec.file


def bundled_file(table: KosisTable, root: Path | str = SOURCES_DIR) -> Path | None:
    """The bundled file of a catalog entry (the paper's figures in KOSIS form), if it has one."""
    return Path(root) / "kosis" / table.bundled if table.bundled else None


def load_catalog(path: Path | str = CATALOG_PATH) -> tuple[KosisTable, ...]:
    """The catalog's entries, checked. Parsed once per version of the file (make run read it six times, 50 ms each)."""
    stat = Path(path).stat()
    return _read_catalog(str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=16)
def _read_catalog(path: str, mtime_ns: int, size: int) -> tuple[KosisTable, ...]:
    with open(path, encoding="utf-8") as fh:
        return parse_catalog(yaml.safe_load(fh), path)
