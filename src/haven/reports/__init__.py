"""The reports domain: what a provider sends to an authority, and how it gets there.

- `format` and `cybertip_xml` (no Django): the versioned report format with its published
  JSON Schema and parser, and the same report in the CyberTipline's XML structure, so that
  both ends of a delivery share one definition;
- `services` and `outbox` (provider side): a report is queued with its outbox message in
  one transaction, and the outbox delivers it with retries and backoff;
- `intake` (authority side): `POST /api/v1/intake/reports`, committed before its 201 and
  idempotent on the sender's report id, so a report is received exactly once.
"""
