"""The tamper-evident audit log: an append-only hash chain with signed checkpoints.

Call `haven.audit.services.record` for every sign-in, every view or change of a sensitive
record, every export and every media reveal. Entries name records by id and never hold
children's personal data, so retention can purge records without breaking the chain.
"""
