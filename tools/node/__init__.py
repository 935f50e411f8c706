"""The smspec reference node and local devnet (issue 9), built only from the spec modules.

``protocol`` loads the spec modules and defines the *Devnet rules* (what the spec leaves open),
``node`` is one node on its SQLite database, ``poet`` the embedded PoET, ``wallet`` accounts and
Athena transactions, ``devnet`` the in-process deterministic devnet, ``api`` the HTTP JSON API.
See docs/devnet.md.
"""
