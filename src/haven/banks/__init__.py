"""Hash banks in the database, and the matcher that keeps the engine's index in memory.

A bank is a list of hashes with provenance; each entry records its signal type (PDQ, vPDQ,
MD5, SHA-256) and is matched by that type's rule. The matcher (`haven.banks.matcher`)
builds `haven.index` structures from the enabled entries and follows the change log, so
an added or disabled entry takes effect within a second in every server process.
"""
