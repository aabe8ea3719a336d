#!/usr/bin/env python3
"""arc1-emu-client.py: speak the ArC ONE serial protocol to tests/arc1-emu.

    arc1-emu-client.py PORT [CONTROL_FIFO] <STEPS

Opens PORT as a client would (raw, 921600 8E1) and runs one step per line
of stdin, printing one result line per step. Every wait has a deadline
(TIMEOUT, seconds, default 3); writes are paced >= 1 ms apart, as the
instrument wants.

    handshake          00, then init until "1" (5 s), then 01 2 0.5
    reset              00
    init [T]           0 and 7 parameters -> "init LINE" / "init timeout"
    send WORD...       one line per word, no reply expected -> "sent"
    version [T]        999 -> "version MAJOR MINOR" / "version timeout"
    read W B [T]       1 -> "read R" (R as %.6g, or nan)
    pulseread W B V PW [N]   3, N times (default 1) -> "pulseread R" (last)
    readall W B [T]    2 1 W B -> "readall COUNT FINITE MIN MAX"
    readlist W B ...   2 2 32 32 N pairs -> "readlist R..."
    bytes N [T]        read N raw bytes -> "bytes HEX" / "bytes short K"
    silence T          no byte for T s -> "silence" / "bytes K"
    drain T            read and drop bytes for T s -> "drain K"
    hup [T]            the port hangs up -> "hup" / "nohup"
    ctl TEXT           write TEXT to the control FIFO -> "ctl"
    garbage N          N random bytes and a newline -> "garbage"
    nopace             stop pacing writes -> "nopace"
"read" also prints ms=ELAPSED, the time the reply took.
"""
import errno
import os
import select
import struct
import sys
import termios
import time

TIMEOUT = 3.0


class Port:
    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        attr = termios.tcgetattr(self.fd)
        attr[0] = 0                                     # iflag
        attr[1] = 0                                     # oflag
        attr[2] = (termios.CS8 | termios.CREAD | termios.CLOCAL |
                   termios.PARENB)                      # 8E1
        attr[3] = 0                                     # lflag
        attr[4] = attr[5] = termios.B921600
        attr[6][termios.VMIN] = 0
        attr[6][termios.VTIME] = 0
        try:
            termios.tcsetattr(self.fd, termios.TCSANOW, attr)
        except termios.error as e:
            # A pty has no parity: Linux drops PARENB from a request that
            # changes anything else, and fails one that changes nothing
            # else with EINVAL (e.g. on a second open). Ask without it.
            if e.args[0] != errno.EINVAL:
                raise
            attr[2] &= ~termios.PARENB
            termios.tcsetattr(self.fd, termios.TCSANOW, attr)
        termios.tcflush(self.fd, termios.TCIOFLUSH)
        self.pace = True
        self.last_write = 0.0
        self.buf = b""

    def write_lines(self, words):
        self.write_raw("".join("%s\n" % w for w in words).encode())

    def write_raw(self, data):
        if self.pace:
            # The instrument wants >= 0.5-1 ms between writes (protocol
            # pacing, not a wait for anything).
            gap = time.monotonic() - self.last_write
            if gap < 0.001:
                time.sleep(0.001 - gap)
        deadline = time.monotonic() + TIMEOUT
        while data and time.monotonic() < deadline:
            select.select([], [self.fd], [], TIMEOUT)
            try:
                data = data[os.write(self.fd, data):]
            except BlockingIOError:
                pass
        self.last_write = time.monotonic()

    def fill(self, deadline):
        """Wait for more bytes until deadline; False on timeout or hangup."""
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([self.fd], [], [], left)
        if not r:
            return False
        try:
            data = os.read(self.fd, 4096)
        except BlockingIOError:
            return True
        except OSError:
            return False
        if not data:
            return False
        self.buf += data
        return True

    def read_exact(self, n, timeout):
        deadline = time.monotonic() + timeout
        while len(self.buf) < n:
            if not self.fill(deadline):
                break
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_line(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            if not self.fill(deadline):
                return None
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode(errors="replace")

    def floats(self, n, timeout):
        data = self.read_exact(4 * n, timeout)
        if len(data) < 4 * n:
            return None, len(data)
        return list(struct.unpack("<%df" % n, data)), len(data)


def fmt(r):
    return "nan" if r != r else "%.6g" % r


def init_params():
    return ["0", "50", "32", "32", "2", "0", "1", "0.5"]


def step(port, ctl, words):
    cmd, args = words[0], words[1:]
    t0 = time.monotonic()

    def ms():
        return "ms=%d" % int((time.monotonic() - t0) * 1000)

    if cmd == "handshake":
        port.write_lines(["00"])
        deadline = time.monotonic() + 5 * TIMEOUT
        line = None
        while time.monotonic() < deadline:
            port.write_lines(init_params())
            line = port.read_line(0.3)
            if line is not None:
                break
        if line is None:
            return "handshake timeout"
        if line.strip() == "1":
            port.write_lines(["01", "2", "0.5"])
        return "handshake %s" % line.strip()
    if cmd == "reset":
        port.write_lines(["00"])
        return "reset"
    if cmd == "init":
        port.write_lines(init_params())
        line = port.read_line(float(args[0]) if args else TIMEOUT)
        return "init %s" % ("timeout" if line is None else line.strip())
    if cmd == "send":
        port.write_lines(args)
        return "sent"
    if cmd == "version":
        port.write_lines(["999"])
        data = port.read_exact(4, float(args[0]) if args else TIMEOUT)
        if len(data) == 0:
            return "version timeout"
        if len(data) < 4:
            return "version short %d" % len(data)
        return "version %d %d" % struct.unpack("<HH", data)
    if cmd == "read":
        port.write_lines(["1", args[0], args[1]])
        v, _ = port.floats(1, float(args[2]) if len(args) > 2 else TIMEOUT)
        return "read timeout" if v is None else "read %s %s" % (fmt(v[0]),
                                                                ms())
    if cmd == "pulseread":
        n = int(args[4]) if len(args) > 4 else 1
        v = None
        for _ in range(n):
            port.write_lines(["3"] + args[:4])
            v, _ = port.floats(1, TIMEOUT)
            if v is None:
                return "pulseread timeout"
        return "pulseread %s" % fmt(v[0])
    if cmd == "readall":
        w, b = int(args[0]), int(args[1])
        port.write_lines(["2", "1", args[0], args[1]])
        v, got = port.floats(w * b, float(args[2]) if len(args) > 2
                             else TIMEOUT)
        if v is None:
            return "readall short %d" % got
        fin = [x for x in v if x == x and abs(x) != float("inf")]
        if not fin:
            return "readall %d 0" % len(v)
        return "readall %d %d %s %s" % (len(v), len(fin), fmt(min(fin)),
                                        fmt(max(fin)))
    if cmd == "readlist":
        n = len(args) // 2
        port.write_lines(["2", "2", "32", "32", str(n)])
        out = []
        for i in range(n):
            port.write_lines(args[2 * i:2 * i + 2])
            v, _ = port.floats(1, TIMEOUT)
            if v is None:
                return "readlist timeout after %d" % i
            out.append(fmt(v[0]))
        return "readlist " + " ".join(out)
    if cmd == "bytes":
        n = int(args[0])
        data = port.read_exact(n, float(args[1]) if len(args) > 1
                               else TIMEOUT)
        if len(data) < n:
            return "bytes short %d" % len(data)
        if n >= 4:
            return "bytes %s tail=%s" % (data.hex(), fmt(struct.unpack(
                "<f", data[-4:])[0]))
        return "bytes " + data.hex()
    if cmd == "silence":
        data = port.read_exact(1 << 20, float(args[0]))
        return "silence" if not data else "bytes %d" % len(data)
    if cmd == "drain":
        data = port.read_exact(1 << 20, float(args[0]))
        return "drain %d" % len(data)
    if cmd == "hup":
        deadline = time.monotonic() + (float(args[0]) if args else TIMEOUT)
        while time.monotonic() < deadline:
            p = select.poll()
            p.register(port.fd, select.POLLIN)
            ev = p.poll(max(1, int((deadline - time.monotonic()) * 1000)))
            for _, e in ev:
                if e & (select.POLLHUP | select.POLLERR):
                    return "hup"
                try:
                    if not os.read(port.fd, 4096):
                        return "hup"
                except BlockingIOError:
                    pass
                except OSError:
                    return "hup"
        return "nohup"
    if cmd == "ctl":
        fd = os.open(ctl, os.O_WRONLY)
        os.write(fd, (" ".join(args) + "\n").encode())
        os.close(fd)
        return "ctl"
    if cmd == "garbage":
        port.write_raw(os.urandom(int(args[0])) + b"\n")
        return "garbage"
    if cmd == "nopace":
        port.pace = False
        return "nopace"
    return "unknown step %s" % cmd


def main():
    if len(sys.argv) < 2:
        sys.stderr.write("usage: arc1-emu-client.py PORT [FIFO] <STEPS\n")
        return 2
    port = Port(sys.argv[1])
    ctl = sys.argv[2] if len(sys.argv) > 2 else None
    for line in sys.stdin:
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        print(step(port, ctl, words), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
