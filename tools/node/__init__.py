"""The smspec reference node and local devnet (issue 9), built only from the spec modules.

``protocol`` loads the spec modules and defines the *Devnet rules* (what the spec leaves open),
``node`` is one node on its SQLite database, ``smesher`` a smeshing service, ``schedule`` the
layer schedule (driven by a coordinator or by the layer clock), ``poet`` the devnet's PoET (in a
coordinator, or as a service), ``wallet`` accounts and Athena transactions, ``devnet`` the
in-process deterministic devnet, ``tcp`` its processes driven by a coordinator, ``clocked`` and
``peers`` the self-clocked processes and their gossip, ``api`` the HTTP JSON API.
See docs/devnet.md and docs/node.md.
"""
