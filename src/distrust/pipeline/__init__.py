"""Walks the stages for each command, so the CLI only parses arguments and picks a report.

Each function takes plain values, calls the stages left to right and returns model records;
nothing here prints. ``scan`` (discover → resolve → judge) and ``risk`` (fetch → analyze →
judge) are separate modules so each command imports only what it uses.
"""
