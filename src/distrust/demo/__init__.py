"""Pieces for ``distrust demo``: local stand-ins for the services a malicious server abuses.

The demos replay real attacks (postmark-mcp 1.0.16) without sending real mail: the server under
test talks to a stand-in that behaves as the provider documents and records what it received,
so the user can see the attacker's copy arrive, and then see the gateway stop it.
"""
