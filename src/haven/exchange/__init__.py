"""Node identity and the keys of other nodes this node trusts (pinned by fingerprint).

Authority signatures on hash lists and notices, and the cross-border exchange, verify
against these pins.
"""
