"""Hash banks and exact Hamming search, with no Django import.

`MultiIndexHash` is the exact range-search engine; `formats` reads and writes hash lists.
"""

from haven.index.mih import (
    HASH_BYTES,
    IndexFileError,
    Matches,
    MultiIndexHash,
    TablePlan,
    as_hash_array,
    plan_tables,
    table_thresholds,
)

__all__ = [
    "HASH_BYTES",
    "IndexFileError",
    "Matches",
    "MultiIndexHash",
    "TablePlan",
    "as_hash_array",
    "plan_tables",
    "table_thresholds",
]
