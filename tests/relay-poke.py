#!/usr/bin/env python3
"""relay-poke.py: a raw HTTPS client of synbridge-relay for its bounds tests.

Usage: relay-poke.py ADDR COMMAND [ARGS...]   (ADDR is HOST:PORT)

  request METHOD PATH TOKENFILE [BODYFILE]
        one request (TOKENFILE - for none); prints "STATUS" then the
        answer body
  publish TOKENFILE BODYFILE...
        one POST /v1/publish per file on one connection (A+B sends the
        files A and B as one body); exits 1 at the first answer that is
        not 200 (printed), else prints the last answer
  streams TOKENFILE PREFIX N
        registers PREFIX0 .. PREFIX(N-1), one request each, and publishes
        one empty batch to each; prints "registered K" (K that worked)
        and the first answer that was not 200
  commands TOKENFILE TO N TEXTFILE
        N POST /v1/command?to=TO with the file as the command line
  readall TOKENFILE ID
        GET /v1/read?streams=ID:AFTER&wait=0 from AFTER 0 on, each time
        after the last batch of the answer before, until an answer is
        empty; prints "answers A batches B gaps G last S largest L"
  stall TOKENFILE ID UNTIL
        a streaming read of stream ID from its start that reads one byte
        and stops (prints "stalled"); after a line on standard input it
        reads on until it has batch UNTIL, the relay ends the answer or
        20 s, and prints "batches B gaps G last S cut C end E" (C 1 if
        the data ends in the middle of a batch; E closed or open)
  overlap TOKENFILE
        two publish bodies of one stream at once, on two connections: a
        stores a batch and stays open; b sends the two batches after the
        next one as two chunks in one write (held for the one a has not
        sent); a sends it and ends, then b ends. Then the same where a
        ends without it. Prints "held A B ANSWER" and "refused A B" with
        each body's status and b's first answer
  drain TOKENFILE
        GET /v1/control?after=N&hold=0 until 204, after the last message
        each time; prints "messages M answers A largest L first F last Z"
  metric NAME
        the value of one line of GET /metrics
  hold N PATH TOKENFILE
        N connections each sending GET PATH and reading its first byte of
        answer body, then reading no more; prints "held N" once all have
        it, and holds them until standard input ends
  idle N FIRST_IP [PER_ADDRESS]
        N TCP connections that never start TLS, spread over the source
        addresses FIRST_IP, FIRST_IP+1, ... (PER_ADDRESS, default 16,
        from each); prints
        "opened N", then "closed K T" each time more of them were closed
        by the relay (K in all, T seconds after opening), until standard
        input ends
  sites NSITES PER_SITE TOKENDIR
        NSITES sites (tokens TOKENDIR/tok.sN) with PER_SITE connections
        each, all from this one address; each connection makes an
        authenticated request and stays open; prints "served K of N"
        and holds them until standard input ends

Token files hold the bearer token (whitespace around it is ignored).
"""
import select
import socket
import ssl
import struct
import sys
import time

CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE


def addr_of(s):
    host, port = s.rsplit(":", 1)
    return host, int(port)


def token_of(path):
    if path == "-":
        return None
    with open(path) as f:
        return f.read().strip()


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = CRC_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def crc_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC_TABLE = crc_table()


def empty_batch(stream, seq):
    """A batch of no events (see man/synbridge-relay.1, WIRE FORMAT)."""
    head = struct.pack("<4sBBHQIIQqII", b"SBB1", 1, 0, 48, 1, stream, 0,
                       seq, 0, 0, 0)
    return head[:44] + struct.pack("<I", crc32c(head))


def read_body(spec):
    body = b""
    for name in spec.split("+"):
        with open(name, "rb") as f:
            body += f.read()
    return body


def connect(addr, src=None, tls=True, timeout=20):
    sock = socket.create_connection(addr, timeout=timeout,
                                    source_address=(src, 0) if src else None)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if tls:
        sock = CTX.wrap_socket(sock, server_hostname=addr[0])
    return sock


def send_request(sock, addr, method, path, token, body=b""):
    head = "%s %s HTTP/1.1\r\nHost: %s:%d\r\n" % (method, path, addr[0],
                                                 addr[1])
    if token is not None:
        head += "Authorization: Bearer %s\r\n" % token
    if method == "POST":
        head += "Content-Length: %d\r\n" % len(body)
    sock.sendall(head.encode() + b"\r\n" + body)


class Reader:
    """Buffered reads of one connection."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()
        self.pos = 0

    def fill(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise EOFError("the relay closed the connection")
        if self.pos > 0:
            del self.buf[:self.pos]
            self.pos = 0
        self.buf += data

    def pending(self):
        return len(self.buf) - self.pos

    def line(self):
        while True:
            end = self.buf.find(b"\r\n", self.pos)
            if end >= 0:
                break
            self.fill()
        line = bytes(self.buf[self.pos:end])
        self.pos = end + 2
        return line.decode("latin-1")

    def exactly(self, n):
        parts = []
        while n > 0:
            if self.pending() == 0:
                self.fill()
            take = min(n, self.pending())
            parts.append(bytes(self.buf[self.pos:self.pos + take]))
            self.pos += take
            n -= take
        return b"".join(parts)

    def head(self):
        status = int(self.line().split()[1])
        headers = {}
        while True:
            line = self.line()
            if not line:
                return status, headers
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()

    def body(self, headers):
        if "content-length" in headers:
            return self.exactly(int(headers["content-length"]))
        if headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int(self.line().split(";")[0], 16)
                if size == 0:
                    while self.line():
                        pass
                    return b"".join(parts)
                parts.append(self.exactly(size))
                self.exactly(2)
        return b""


def exchange(sock, addr, method, path, token, body=b""):
    send_request(sock, addr, method, path, token, body)
    r = Reader(sock)
    status, headers = r.head()
    return status, headers, r.body(headers)


def wait_stdin():
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except KeyboardInterrupt:
        pass


def cmd_request(addr, method, path, tokfile, bodyfile=None):
    body = b""
    if bodyfile is not None:
        with open(bodyfile, "rb") as f:
            body = f.read()
    sock = connect(addr)
    status, _, answer = exchange(sock, addr, method, path, token_of(tokfile),
                                 body)
    sys.stdout.write("%d\n" % status)
    sys.stdout.flush()
    sys.stdout.buffer.write(answer)
    return 0


def cmd_publish(addr, tokfile, *files):
    token = token_of(tokfile)
    sock = connect(addr, timeout=60)
    answer = b""
    for name in files:
        status, headers, answer = exchange(sock, addr, "POST",
                                           "/v1/publish", token,
                                           read_body(name))
        if status != 200:
            print("%d %s" % (status, answer.decode(errors="replace")
                             .strip()))
            if "retry-after" in headers:
                print("Retry-After: %s" % headers["retry-after"])
            return 1
    print("published %d: %s" % (len(files), answer.decode().strip()))
    return 0


def cmd_streams(addr, tokfile, prefix, n):
    token = token_of(tokfile)
    sock = connect(addr)
    for i in range(int(n)):
        status, _, answer = exchange(sock, addr, "POST", "/v1/streams",
                                     token, b"%s%d 1\n" % (prefix.encode(),
                                                            i))
        if status == 200:
            sid = int(answer.split()[0])
            status, _, answer = exchange(sock, addr, "POST", "/v1/publish",
                                         token, empty_batch(sid, 1))
        if status != 200:
            print("registered %d" % i)
            print("%d %s" % (status, answer.decode(errors="replace")
                             .strip()))
            return 1
    print("registered %s" % n)
    return 0


def cmd_commands(addr, tokfile, to, n, textfile):
    token = token_of(tokfile)
    with open(textfile, "rb") as f:
        text = f.read()
    sock = connect(addr)
    for i in range(int(n)):
        status, _, answer = exchange(sock, addr, "POST",
                                     "/v1/command?to=%s&id=%d" % (to, i + 1),
                                     token, text)
        if status != 202:
            print("%d %s" % (status, answer.decode(errors="replace")
                             .strip()))
            return 1
    print("posted %s" % n)
    return 0


def batches_of(data):
    """(flags, seq, event_count) of each batch of a read answer."""
    out = []
    off = 0
    while off < len(data):
        if len(data) - off < 48 or data[off:off + 4] != b"SBB1":
            raise ValueError("not a batch at byte %d" % off)
        flags = data[off + 5]
        head, = struct.unpack_from("<H", data, off + 6)
        count, seq = struct.unpack_from("<IQ", data, off + 20)
        payload, = struct.unpack_from("<I", data, off + 40)
        if off + head + payload > len(data):
            raise ValueError("batch cut at byte %d" % off)
        out.append((flags, seq, count))
        off += head + payload
    return out


def cmd_readall(addr, tokfile, sid):
    token = token_of(tokfile)
    sock = connect(addr, timeout=60)
    after = answers = batches = gaps = largest = 0
    while True:
        status, _, answer = exchange(sock, addr, "GET",
                                     "/v1/read?streams=%s:%d&wait=0" %
                                     (sid, after), token)
        if status != 200:
            print("%d %s" % (status, answer.decode(errors="replace")))
            return 1
        if not answer:
            break
        answers += 1
        largest = max(largest, len(answer))
        for flags, seq, count in batches_of(answer):
            if flags & 1:
                gaps += 1
                after = seq + count - 1
                continue
            if seq != after + 1:
                print("batch %d after %d" % (seq, after))
                return 1
            after = seq
            batches += 1
    print("answers %d batches %d gaps %d last %d largest %d" %
          (answers, batches, gaps, after, largest))
    return 0


def parse_read(data):
    """(batches, gaps, last seq, cut) of the bytes of a read."""
    got = batches = gaps = cut = 0
    off = 0
    while off < len(data):
        if len(data) - off < 48:
            cut = 1
            break
        head, = struct.unpack_from("<H", data, off + 6)
        count, seq = struct.unpack_from("<IQ", data, off + 20)
        payload, = struct.unpack_from("<I", data, off + 40)
        if off + head + payload > len(data):
            cut = 1
            break
        if data[off + 5] & 1:
            gaps += 1
        elif data[off + 5] == 0:
            batches += 1
            got = seq
        off += head + payload
    return batches, gaps, got, cut


def cmd_stall(addr, tokfile, sid, until):
    sock = connect(addr, timeout=60)
    send_request(sock, addr, "GET", "/v1/read?streams=%s:0" % sid,
                 token_of(tokfile))
    r = Reader(sock)
    status, _ = r.head()
    if status != 200:
        print("status %d" % status)
        return 1
    if r.pending() == 0:
        r.fill()
    print("stalled")
    sys.stdout.flush()
    sys.stdin.readline()
    deadline = time.monotonic() + 20
    data = bytearray()
    end = "open"
    try:
        while parse_read(data)[2] < int(until):
            if time.monotonic() >= deadline:
                raise socket.timeout()
            sock.settimeout(max(deadline - time.monotonic(), 0.01))
            size = int(r.line().split(";")[0], 16)
            if size == 0:
                end = "closed"
                break
            data += r.exactly(size)
            r.exactly(2)
    except socket.timeout:
        end = "open"
    except (EOFError, OSError, ssl.SSLError, ValueError):
        end = "closed"
    print("batches %d gaps %d last %d cut %d end %s" %
          (parse_read(data) + (end,)))
    return 0


def cmd_drain(addr, tokfile):
    token = token_of(tokfile)
    sock = connect(addr)
    after = messages = answers = largest = 0
    first = None
    while True:
        status, _, answer = exchange(sock, addr, "GET",
                                     "/v1/control?after=%d&hold=0" % after,
                                     token)
        if status == 204:
            break
        if status != 200:
            print("%d %s" % (status, answer.decode(errors="replace")))
            return 1
        answers += 1
        largest = max(largest, len(answer))
        for line in answer.decode().splitlines():
            n = int(line.split(" ", 1)[0])
            if n <= after:
                print("message %d came after %d" % (n, after))
                return 1
            if first is None:
                first = n
            after = n
            messages += 1
    print("messages %d answers %d largest %d first %s last %d" %
          (messages, answers, largest, first, after))
    return 0


def metric_value(addr, name):
    """An unlabelled /metrics value (its text), or None if it is missing."""
    sock = connect(addr)
    _, _, answer = exchange(sock, addr, "GET", "/metrics", None)
    for line in answer.decode().splitlines():
        if line.startswith(name + " "):
            return line.split()[1]
    return None


def cmd_metric(addr, name):
    v = metric_value(addr, name)
    if v is None:
        print("no metric %s" % name)
        return 1
    print(v)
    return 0


def cmd_hold(addr, n, path, tokfile):
    token = token_of(tokfile)
    socks = []
    for _ in range(int(n)):
        sock = connect(addr, timeout=60)
        send_request(sock, addr, "GET", path, token)
        socks.append(sock)
    for sock in socks:
        r = Reader(sock)
        status, headers = r.head()
        if status != 200:
            print("status %d" % status)
            return 1
        if r.pending() == 0:
            r.fill()
    print("held %d" % len(socks))
    sys.stdout.flush()
    wait_stdin()
    return 0


def cmd_idle(addr, n, first_ip, per_address="16"):
    base = list(map(int, first_ip.split(".")))
    socks = []
    for i in range(int(n)):
        ip = base[:]
        ip[3] += i // int(per_address)
        sock = connect(addr, src=".".join(map(str, ip)), tls=False)
        sock.setblocking(False)
        socks.append(sock)
    t0 = time.monotonic()
    print("opened %d" % len(socks))
    sys.stdout.flush()
    poller = select.poll()
    by_fd = {}
    for sock in socks:
        poller.register(sock, select.POLLIN)
        by_fd[sock.fileno()] = sock
    poller.register(sys.stdin, select.POLLIN)
    closed = 0
    while True:
        events = poller.poll(500)
        more = 0
        for fd, _ in events:
            if fd == sys.stdin.fileno():
                if not sys.stdin.buffer.read1(4096):
                    return 0
                continue
            try:
                data = by_fd[fd].recv(4096)
            except (ConnectionError, OSError):
                data = b""
            if not data:
                poller.unregister(fd)
                closed += 1
                more = 1
        if more:
            print("closed %d %.1f" % (closed, time.monotonic() - t0))
            sys.stdout.flush()


def cmd_sites(addr, nsites, per_site, tokdir):
    socks = []
    served = 0
    want = int(nsites) * int(per_site)
    for s in range(int(nsites)):
        token = token_of("%s/tok.s%d" % (tokdir, s))
        for _ in range(int(per_site)):
            try:
                sock = connect(addr, timeout=10)
                status, _, _ = exchange(sock, addr, "GET", "/v1/health",
                                        token)
                if status == 200:
                    served += 1
                socks.append(sock)
            except (OSError, EOFError, ssl.SSLError) as e:
                print("connection %d: %s" % (len(socks) + 1, e))
    print("served %d of %d" % (served, want))
    sys.stdout.flush()
    wait_stdin()
    return 0


def chunk(data):
    return b"%x\r\n" % len(data) + data + b"\r\n"


def open_publish(addr, token):
    sock = connect(addr, timeout=15)
    sock.sendall(("POST /v1/publish HTTP/1.1\r\nHost: %s:%d\r\n"
                  "Authorization: Bearer %s\r\nTransfer-Encoding: chunked"
                  "\r\n\r\n" % (addr[0], addr[1], token)).encode())
    return sock


def highest(addr, token, sid):
    sock = connect(addr)
    _, _, answer = exchange(sock, addr, "GET", "/v1/streams", token)
    for line in answer.decode().splitlines():
        f = line.split()
        if int(f[0]) == sid:
            return int(f[4])
    return 0


def metric(addr, name):
    v = metric_value(addr, name)
    if v is None:
        raise SystemExit("overlap: no %s in /metrics" % name)
    return int(v)


def until(what, fn, seconds=20):
    end = time.time() + seconds
    while not fn():
        if time.time() > end:
            raise SystemExit("overlap: no %s in %d s" % (what, seconds))
        time.sleep(0.02)


def cmd_overlap(addr, tokfile):
    token = token_of(tokfile)
    sock = connect(addr)
    status, _, answer = exchange(sock, addr, "POST", "/v1/streams", token,
                                 b"overlap 0\n")
    sid, _, n = answer.decode().split()[:3]
    sid, n = int(sid), int(n)
    held = "synbridge_relay_publish_held_total"
    for what in ("held", "refused"):
        a = open_publish(addr, token)
        a.sendall(chunk(empty_batch(sid, n)))
        until("batch %d stored" % n, lambda: highest(addr, token, sid) >= n)
        h0 = metric(addr, held)
        b = open_publish(addr, token)
        b.sendall(chunk(empty_batch(sid, n + 2)) +
                  chunk(empty_batch(sid, n + 3)))
        until("part held", lambda: metric(addr, held) > h0)
        if what == "held":
            a.sendall(chunk(empty_batch(sid, n + 1)) + b"0\r\n\r\n")
        else:
            a.sendall(b"0\r\n\r\n")
        ra = Reader(a)
        sa, ha = ra.head()
        ra.body(ha)
        b.sendall(b"0\r\n\r\n")
        rb = Reader(b)
        sb, hb = rb.head()
        answer = rb.body(hb).decode(errors="replace").strip()
        if what == "held":
            print("held %d %d %s" % (sa, sb, answer))
            n += 4
        else:
            print("refused %d %d" % (sa, sb))
        sys.stdout.flush()
        a.close()
        b.close()
    return 0


COMMANDS = {
    "request": cmd_request,
    "publish": cmd_publish,
    "streams": cmd_streams,
    "commands": cmd_commands,
    "readall": cmd_readall,
    "stall": cmd_stall,
    "drain": cmd_drain,
    "metric": cmd_metric,
    "overlap": cmd_overlap,
    "hold": cmd_hold,
    "idle": cmd_idle,
    "sites": cmd_sites,
}

if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[2] not in COMMANDS:
        sys.stderr.write(__doc__)
        sys.exit(2)
    sys.exit(COMMANDS[sys.argv[2]](addr_of(sys.argv[1]), *sys.argv[3:]))
