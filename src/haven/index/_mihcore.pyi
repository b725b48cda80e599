# Buffers are any C-contiguous object with the buffer protocol (numpy arrays, bytes).
from typing import Any

def search(
    queries: Any,
    hashes: Any,
    offsets: Any,
    postings: Any,
    dead: Any,
    tables: Any,
    masks: Any,
    radius: int,
    /,
) -> tuple[bytes, bytes, bytes]: ...
def scan(queries: Any, hashes: Any, dead: Any, radius: int, /) -> tuple[bytes, bytes, bytes]: ...
def build(hashes: Any, start: int, bits: int, /) -> tuple[bytes, bytes]: ...
