"""Ads and posts in the database: their signals, and the clusters that link them.

The text engine (`haven.text`) reads entities and indicators out of one ad and links many
ads into clusters; this app keeps what an investigation needs between runs: the ads an
agency ingested (idempotent on the poster's id), what was found in each, an index of
contact values to find every ad sharing a phone, and clusters whose ids stay stable when
a later ingest relinks them. `POST /api/v1/text/scan` is the stateless form: nothing kept.
"""
