"""A fast keep-alive webhook receiver for the delivery benchmark, in its own process.

Answers every POST with 200 on the same connection and counts deliveries by `webhook-id`;
`GET /stats` returns {"received": n, "distinct": n, "connections": n}. asyncio and a minimal
HTTP/1.1 parser (Content-Length bodies only): a benchmark peer, not a server.

Run: python bench/webhook_receiver.py PORT (prints "ready" once listening).
"""
import asyncio
import json
import re
import sys

ID = re.compile(rb"\r\nwebhook-id: *([^\r]*)", re.IGNORECASE)
LENGTH = re.compile(rb"\r\ncontent-length: *(\d+)", re.IGNORECASE)
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


class Stats:
    received = 0
    connections = 0
    ids = set()


class Peer(asyncio.Protocol):
    """One connection: parse requests out of the stream, answer each in order."""

    def connection_made(self, transport):
        Stats.connections += 1
        self.transport, self.buffer = transport, b""

    def data_received(self, data):
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            match = LENGTH.search(head)
            total = end + 4 + (int(match.group(1)) if match else 0)
            if len(self.buffer) < total:
                return
            self.buffer = self.buffer[total:]
            self.transport.write(self.answer(head))

    @staticmethod
    def answer(head):
        if head.startswith(b"GET /stats"):
            body = json.dumps({"received": Stats.received, "distinct": len(Stats.ids),
                               "connections": Stats.connections}).encode()
            return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
        Stats.received += 1
        found = ID.search(head)
        if found:
            Stats.ids.add(found.group(1))
        return OK


async def serve(port):
    """Listen on 127.0.0.1:port until killed."""
    server = await asyncio.get_running_loop().create_server(Peer, "127.0.0.1", port,
                                                            backlog=1024)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
