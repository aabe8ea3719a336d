#!/usr/bin/env python3
"""relay-get.py HOST:PORT PATH [TOKEN_FILE] [HEADER]: one HTTPS GET to a
synbridge-relay on loopback (its self-signed certificate is not checked:
the test relay's). Prints the body, or with HEADER the value of that
response header; exits 1 on a failed exchange or a non-200 answer."""
import http.client
import ssl
import sys


def main():
    addr, path = sys.argv[1], sys.argv[2]
    token = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else None
    header = sys.argv[4] if len(sys.argv) > 4 else None
    host, port = addr.rsplit(":", 1)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection(host, int(port), context=ctx,
                                       timeout=10)
    headers = {}
    if token:
        with open(token) as f:
            headers["Authorization"] = "Bearer " + f.read().strip()
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
    except OSError as e:
        print("relay-get: %s: %s" % (addr, e), file=sys.stderr)
        return 1
    if resp.status != 200:
        print("relay-get: %s answered %d" % (path, resp.status),
              file=sys.stderr)
        return 1
    if header:
        value = resp.getheader(header)
        if value is None:
            return 1
        print(value)
    else:
        sys.stdout.write(body.decode("utf-8", "replace"))
    return 0


sys.exit(main())
