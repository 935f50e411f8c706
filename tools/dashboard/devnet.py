"""The dashboard of a devnet (``smspec devnet up --dashboard``): the status server of every
smeshing service, and the page's address naming every node API and every status server."""

from __future__ import annotations

import os
from typing import Any

from smspec.tools.dashboard import page_url


class DevnetDashboard:
    """One status server (tools/node/smesher_api.py, loopback, any free port) per smeshing service
    of the devnet in `directory`; they read the services' directories, as `smspec smesher serve`
    does, so they serve in-process and process (``--tcp``) devnets alike."""

    def __init__(self, directory: str, config: Any) -> None:
        from smspec.tools.node.devnet import smesher_dir
        from smspec.tools.node.smesher_api import serve_status

        self.homes = [(smesher_dir(directory, index, j), index) for index in range(config.nodes)
                      for j in range(config.smeshers)]
        self.servers: list[Any] = []
        try:
            for home, _ in self.homes:
                self.servers.append(serve_status(os.path.join(home, "keys"), os.path.join(home, "post")))
        except OSError:
            self.stop()
            raise

    def url(self, node_urls: dict[int, str]) -> str:
        """The page's address on the first node's API; tells each status server its node's API."""
        for server, (_, index) in zip(self.servers, self.homes):
            server.app.nodes[:] = [node_urls[index]] if index in node_urls else []
        nodes = [node_urls[index] for index in sorted(node_urls)]
        return page_url(nodes[0] if nodes else self.servers[0].url, nodes, [server.url for server in self.servers])

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        self.servers = []
