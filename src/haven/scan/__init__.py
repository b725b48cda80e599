"""Hashing files in bulk and matching them against a bank: the scanning core.

Plain batch functions run by a process pool on one machine (see DESIGN.md); a distributed
engine can run the same functions elsewhere.
"""

from haven.scan.batch import ScanOptions, hash_batch, hash_file, iter_files, match_record

__all__ = ["ScanOptions", "hash_batch", "hash_file", "iter_files", "match_record"]
