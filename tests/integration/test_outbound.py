"""The outbound HTTP client against real sockets on loopback: answers come through,
and each way a partner can fail is the httpx error of its kind (the sources and
channels turn those into retries and failure codes)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import pytest

from services.outbound import outbound_client
from tests.e2e.processes import free_port

Serve = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def tcp(serve: Serve) -> AsyncIterator[str]:
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.close()


async def _head(reader: asyncio.StreamReader) -> None:
    await reader.readuntil(b"\r\n\r\n")


async def answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Every request on the connection, each with its number in the connection."""
    served = 0
    while True:
        try:
            await _head(reader)
        except asyncio.IncompleteReadError:
            return  # the client closed it
        await reader.readexactly(2)  # the body, b"{}"
        served += 1
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
            + f"X-Served: {served}\r\n\r\nhello".encode()
        )
        await writer.drain()


async def hangs_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _head(reader)
    writer.close()


async def not_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _head(reader)
    writer.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
    await writer.drain()
    writer.close()


async def says_nothing(reader: asyncio.StreamReader, _: asyncio.StreamWriter) -> None:
    await _head(reader)
    await asyncio.sleep(30)


async def test_an_answer_comes_through_and_the_connection_is_kept():
    async with tcp(answers) as url, outbound_client() as client:
        first = await client.post(url, content=b"{}")
        assert (first.status_code, first.text) == (200, "hello")
        second = await client.post(url, content=b"{}")
        assert second.headers["x-served"] == "2"  # on the same connection


async def test_nobody_listening_is_a_connect_error_not_a_timeout():
    async with outbound_client() as client:
        with pytest.raises(httpx.ConnectError):
            await client.post(f"http://127.0.0.1:{free_port()}/", content=b"{}")


async def test_a_partner_that_hangs_up_is_a_protocol_error():
    async with tcp(hangs_up) as url, outbound_client() as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post(url, content=b"{}")


async def test_an_answer_that_is_not_http_is_a_protocol_error():
    async with tcp(not_http) as url, outbound_client() as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post(url, content=b"{}")


async def test_a_partner_that_says_nothing_times_out():
    async with tcp(says_nothing) as url, outbound_client() as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.post(url, content=b"{}", timeout=0.3)
