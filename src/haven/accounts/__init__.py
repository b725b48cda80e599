"""Accounts: people, roles, agencies and teams, API tokens, sign-in with a second factor.

Permission and reach checks live in `haven.accounts.permissions`, the one place that
reads the role table in `haven.accounts.roles`.
"""
