"""API endpoints for hashing, matching and banks (placeholder until built)."""

from ninja import Router

router = Router()
