"""Loaded by a test's subprocess: refuse and record every non-loopback connection.

Python-level only (socket.connect / getaddrinfo); the strace test covers native code.
"""

import ipaddress
import os
import socket

_LOG = os.environ.get("NETGUARD_LOG")
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}


def _is_local(host) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode()
    host = str(host).strip("[]")
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _record(what: str) -> None:
    if _LOG:
        with open(_LOG, "a", encoding="utf-8") as out:
            out.write(what + "\n")


_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
_getaddrinfo = socket.getaddrinfo


def _guard(sock, address):
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
        _record(f"connect {address[0]}:{address[1]}")
        raise OSError(101, f"network blocked by the test guard: {address[0]}")


def connect(self, address):
    _guard(self, address)
    return _connect(self, address)


def connect_ex(self, address):
    _guard(self, address)
    return _connect_ex(self, address)


def getaddrinfo(host, *args, **kwargs):
    if not _is_local(host):
        _record(f"getaddrinfo {host}")
        raise socket.gaierror(socket.EAI_NONAME, f"name lookup blocked by the test guard: {host}")
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect = connect
socket.socket.connect_ex = connect_ex
socket.getaddrinfo = getaddrinfo
