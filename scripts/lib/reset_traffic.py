"""Real TCP resets on loopback for scripts/prometheus-check.

Every reset is made on 127.0.0.1 by this process, with sockets of its own:
refused connects to a port that is bound but not listening, SO_LINGER 0
closes and closes with unread data on a listener, and idle connections
reset by the listener's side.
"""

import select
import socket
import struct
import time

LOOPBACK = "127.0.0.1"


class ResetTraffic:
    def __init__(self):
        # Bound and never listening: the port stays ours, and every SYN to
        # it is answered by a reset (cause refused, peer_refused).
        self.closed = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.closed.bind((LOOPBACK, 0))
        self.closed_port = self.closed.getsockname()[1]
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind((LOOPBACK, 0))
        self.listener.listen(128)
        self.service_port = self.listener.getsockname()[1]

    def close(self):
        self.closed.close()
        self.listener.close()

    def refused(self, count):
        for _ in range(count):
            client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                client.connect((LOOPBACK, self.closed_port))
                raise RuntimeError(f"port {self.closed_port} accepted a connection")
            except ConnectionRefusedError:
                pass
            finally:
                client.close()

    def refused_paced(self, count, batch, pause):
        """Batches small enough for the ring buffer, so no event is lost."""
        while count > 0:
            self.refused(min(batch, count))
            count -= batch
            time.sleep(pause)

    def _pair(self):
        client = socket.create_connection((LOOPBACK, self.service_port), timeout=5)
        server, _ = self.listener.accept()
        return client, server

    @staticmethod
    def _abort(server):
        server.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        server.close()

    @staticmethod
    def _await_reset(client):
        try:
            client.recv(4096)
        except ConnectionResetError:
            pass
        client.close()

    def linger_zero(self, count):
        """The listener's side aborts: linger_zero_close sent, peer_reset received."""
        for _ in range(count):
            client, server = self._pair()
            self._abort(server)
            self._await_reset(client)

    def unread_data(self, count):
        """The listener's side closes with 100 bytes unread: close_with_unread_data."""
        for _ in range(count):
            client, server = self._pair()
            client.sendall(b"x" * 100)
            if not select.select([server], [], [], 5)[0]:
                raise RuntimeError("100 bytes sent on loopback did not arrive in 5 s")
            server.close()
            self._await_reset(client)

    def idle(self, count, seconds):
        """Connections silent for `seconds` after one byte each way, then reset
        by the listener's side: the idle-before-reset histogram's material."""
        pairs = [self._pair() for _ in range(count)]
        for client, server in pairs:
            client.sendall(b"?")
            server.recv(1)
            server.sendall(b"!")
            client.recv(1)
        time.sleep(seconds)
        for client, server in pairs:
            self._abort(server)
            self._await_reset(client)
