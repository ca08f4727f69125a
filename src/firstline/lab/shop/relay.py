"""A TCP relay from one loopback port to another, optionally terminating TLS. The storefront
serves HTTPS through one (so a replaced certificate is picked up per handshake), and payments
refuses connections by closing one (so the refusal is the kernel's own ECONNREFUSED)."""

from __future__ import annotations

import asyncio
import contextlib
import ssl

HOST = "127.0.0.1"
CHUNK = 65536


async def _copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while data := await source.read(CHUNK):
            sink.write(data)
            await sink.drain()
    except (ConnectionError, ssl.SSLError, OSError):
        pass
    finally:
        sink.close()


class Relay:
    def __init__(self, listen_port: int, target_port: int, tls: ssl.SSLContext | None = None):
        self.listen_port = listen_port
        self.target_port = target_port
        self.tls = tls
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()

    @property
    def is_open(self) -> bool:
        return self._server is not None

    async def open(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(
                self._serve, HOST, self.listen_port, ssl=self.tls, reuse_address=True
            )

    async def close(self) -> None:
        """Stop listening and cut the connections already relayed: a client's keep-alive
        connection must not outlive the listener, or the refusal would go unnoticed."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for writer in list(self._connections):
            writer.transport.abort()
        await server.wait_closed()

    async def _serve(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        try:
            target_in, target_out = await asyncio.open_connection(HOST, self.target_port)
        except OSError:
            client_out.transport.abort()
            return
        pair = {client_out, target_out}
        self._connections |= pair
        try:
            await asyncio.gather(_copy(client_in, target_out), _copy(target_in, client_out))
        finally:
            self._connections -= pair
            for writer in pair:
                with contextlib.suppress(Exception):
                    writer.close()
