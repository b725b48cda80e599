"""The evidence vault: preserved content, encrypted, with its chain of custody and retention.

US law asks a provider to preserve reported content for a year, securely, seen by as few
people as possible. `vault` seals each item's bytes under its own key, wrapped by the node's
master key; `services` records who created, viewed, exported or purged an item and why,
keeps it until its retention ends (one year from the report by default, longer under a
law-enforcement hold), and purges what expired with proof in the audit log; `package`
builds the encrypted export for law enforcement.
"""
