"""Faults the fake platform APIs inject into their own HTTP connections."""

from __future__ import annotations

import socket
import struct

from aiohttp import web


def reset_connection(request: web.Request) -> web.Response:
    """Cut the connection with a TCP reset (SO_LINGER 0), as a crashed proxy or server would.

    The client gets no answer at all; the response returned is written to a closed transport.
    """
    transport = request.transport
    assert transport is not None
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    return web.Response(status=500)
