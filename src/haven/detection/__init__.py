"""Detection: a provider's uploads scanned against the banks, with a decision and a record.

`POST /api/v1/scan` takes a file or its precomputed hashes with the content's metadata
(the provider's content id, uploader, IP, time, URL, surface) and answers synchronously
with every match and a decision. Each scanned item's hashes are kept, never its bytes, so
that a bank entry added later can find past content. Idempotent on the content id.
"""
