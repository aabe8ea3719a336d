#!/usr/bin/env python3
"""rhx-client.py: a bare client of tests/rhx-emu (the Intan RHX TCP ports).

    rhx-client.py COMMAND_PORT SPIKE_PORT WAVEFORM_PORT [CONTROL_FIFO
        [EMULATOR_STDOUT]] <STEPS

Runs one step per line of stdin and prints one result line per step; a
step written "[TAG] STEP" has its result printed "[TAG] RESULT". Every
wait has a deadline (T, seconds). Times are CLOCK_MONOTONIC, the clock the
emulator prints.

    cmd | spike | wave [T] connect to that port (retrying a refusal for
                           T s) -> "NAME connected" / "NAME refused"
    probe NAME             a second connection, closed at once -> "probe
                           NAME connected" / "probe NAME refused"
    close NAME             close our connection -> "close NAME"
    send TEXT              send TEXT as is (no terminator added) -> "sent"
    ask TEXT [| T]         send TEXT, then as "reply"
    reply [T]              bytes that arrive within T (default 1) s, until
                           0.05 s of quiet -> "reply TEXT" (newline and
                           CR shown as \\n and \\r) / "reply none"
    timed TEXT             send TEXT, wait up to 5 s for the first byte ->
                           "reply TEXT ms=ELAPSED"
    eof NAME [T]           the emulator closes NAME -> "eof" / "noeof"
    trigger KEY            send "execute ManualStimTriggerPulse KEY;" ->
                           "trigger us=SEND_TIME"
    records N [T]          read the spike port until N records (default
                           T 3) -> "records K bad=B skipped=S partial=P
                           chans=C,... ids=I,... tmin=.. tmax=.. ordered=yes"
                           (bad: runs of bytes without the magic, skipped:
                           their bytes, partial: reads that ended inside a
                           record, counted from the first byte)
    collect T              read the spike port for T s, as "records"
    batches W T            read for T s -> "batches reads=R records=K
                           crossing=C": C reads whose records span more
                           than one W-frame window
    evoked CH T            read for T s -> "evoked artifacts=A spikes=S
                           near=K lat_min=.. lat_max=.. art_first=TS":
                           artifact records (0x80) on CH, id-1 records
                           anywhere (S), those on CH's neighbours (same
                           port, number within 2) within 600 frames after
                           the last artifact (K) and their latencies
    blocks BPF N [T]       read N waveform blocks of BPF bytes a frame
                           (N 0: until 0.2 s without data) -> "wave
                           blocks=K magic_bad=M gaps=G first=TS stim=MAX
                           stim_at=TS": MAX the largest low byte of a
                           frame's last uint16 (the STIM word if last),
                           stim_at the first frame where it is not 0
    ctl TEXT               write TEXT and a newline to the control FIFO ->
                           "ctl"
    expect N TEXT [| T]    the emulator's stdout has N lines starting with
                           TEXT (T default 3) -> "expect ok" / "expect
                           timeout"
    sleep T                (only to let real time pass for pacing)
"""
import errno
import select
import socket
import struct
import sys
import time

MAGIC = 0x3AE2710F
MAGIC_BYTES = struct.pack("<I", MAGIC)
WAVE_MAGIC = 0x2EF07A08
REC = 14


def now():
    return time.monotonic()


class Spikes:
    """The spike stream, reassembled into 14-byte records with resync."""

    def __init__(self):
        self.buf = b""
        self.total = 0
        self.in_bad = False

    def feed(self, data, out, stats):
        self.total += len(data)
        if self.total % REC != 0:
            stats["partial"] += 1
        self.buf += data
        while len(self.buf) >= REC:
            if self.buf[:4] == MAGIC_BYTES:
                _, name, ts, sid = struct.unpack("<I5sIB", self.buf[:REC])
                out.append((name.decode("latin-1"), ts, sid))
                self.buf = self.buf[REC:]
                self.in_bad = False
                continue
            if not self.in_bad:
                stats["bad"] += 1
                self.in_bad = True
            k = self.buf.find(MAGIC_BYTES, 1)
            if k == -1:
                k = len(self.buf) - 3
            stats["skipped"] += k
            self.buf = self.buf[k:]


class Client:
    def __init__(self, ports, fifo, stdout_path):
        self.ports = ports
        self.fifo = fifo
        self.stdout_path = stdout_path
        self.sock = {}
        self.spikes = Spikes()

    def dial(self, name):
        """A connected socket, or None if refused."""
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(3)
        try:
            s.connect(("127.0.0.1", self.ports[name]))
        except OSError as e:
            s.close()
            if e.errno in (errno.ECONNREFUSED, errno.ECONNRESET):
                return None
            raise
        return s

    def connect(self, name, seconds=0.0):
        deadline = now() + seconds
        while True:
            s = self.dial(name)
            if s is not None or now() >= deadline:
                break
            time.sleep(0.02)
        if s is None:
            return "%s refused" % name
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setblocking(False)
        if name in self.sock:
            self.sock[name].close()
        self.sock[name] = s
        if name == "spike":
            self.spikes = Spikes()
        return "%s connected" % name

    def recv(self, name, timeout):
        """One read within timeout: bytes, b"" at EOF, None if none."""
        s = self.sock[name]
        r, _, _ = select.select([s], [], [], max(timeout, 0))
        if not r:
            return None
        try:
            return s.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            return b""

    def send(self, text):
        self.sock["cmd"].setblocking(True)
        self.sock["cmd"].sendall(text.encode("latin-1"))
        self.sock["cmd"].setblocking(False)

    def reply(self, timeout=1.0, quiet=0.05):
        data = b""
        deadline = now() + timeout
        while True:
            left = deadline - now() if not data else quiet
            chunk = self.recv("cmd", left)
            if not chunk:
                break
            data += chunk
        if not data:
            return "reply none"
        text = data.decode("latin-1")
        return "reply " + text.replace("\n", "\\n").replace("\r", "\\r")

    def read_spikes(self, until_n, seconds, per_read=None):
        out = []
        stats = {"bad": 0, "skipped": 0, "partial": 0, "reads": 0}
        deadline = now() + seconds
        while until_n is None or len(out) < until_n:
            left = deadline - now()
            if left <= 0:
                break
            data = self.recv("spike", left)
            if data is None:
                break
            if data == b"":
                stats["eof"] = 1
                break
            before = len(out)
            self.spikes.feed(data, out, stats)
            stats["reads"] += 1
            if per_read is not None:
                per_read.append(out[before:])
        return out, stats

    def summary(self, recs, stats):
        chans = sorted({r[0] for r in recs})
        ids = sorted({r[2] for r in recs})
        ts = [r[1] for r in recs]
        ordered = all(a <= b for a, b in zip(ts, ts[1:]))
        return ("records %d bad=%d skipped=%d partial=%d chans=%s ids=%s "
                "tmin=%s tmax=%s ordered=%s" % (
                    len(recs), stats["bad"], stats["skipped"],
                    stats["partial"], ",".join(chans) or "-",
                    ",".join(str(i) for i in ids) or "-",
                    min(ts) if ts else "-", max(ts) if ts else "-",
                    "yes" if ordered else "no"))

    def batches(self, window, seconds):
        per_read = []
        recs, _ = self.read_spikes(None, seconds, per_read)
        crossing = 0
        reads = 0
        for group in per_read:
            if not group:
                continue
            reads += 1
            first = {r[1] // window for r in group}
            if len(first) > 1:
                crossing += 1
        return "batches reads=%d records=%d crossing=%d" % (
            reads, len(recs), crossing)

    def evoked(self, ch, seconds):
        recs, _ = self.read_spikes(None, seconds)
        letter, number = ch[0], int(ch[2:])
        last_art = None
        arts = []
        spikes = near = 0
        lats = []
        for name, ts, sid in recs:
            if sid == 0x80 and name == ch:
                arts.append(ts)
                last_art = ts
                continue
            if sid != 1:
                continue
            spikes += 1
            if (name[0] == letter and abs(int(name[2:]) - number) <= 2 and
                    last_art is not None and 0 <= ts - last_art <= 600):
                near += 1
                lats.append(ts - last_art)
        return ("evoked artifacts=%d spikes=%d near=%d lat_min=%s "
                "lat_max=%s art_first=%s" % (
                    len(arts), spikes, near,
                    min(lats) if lats else "-", max(lats) if lats else "-",
                    arts[0] if arts else "-"))

    def wave(self, bpf, nblocks, seconds):
        size = 4 + 128 * bpf
        data = b""
        deadline = now() + seconds
        while nblocks == 0 or len(data) < size * nblocks:
            left = deadline - now()
            if nblocks == 0:
                left = min(left, 0.2)
            chunk = self.recv("wave", left)
            if not chunk:
                break
            data += chunk
        blocks = len(data) // size
        magic_bad = gaps = 0
        first = prev = stim_at = None
        stim = 0
        for b in range(blocks):
            blk = data[b * size:(b + 1) * size]
            if struct.unpack_from("<I", blk, 0)[0] != WAVE_MAGIC:
                magic_bad += 1
                continue
            for f in range(128):
                off = 4 + f * bpf
                ts = struct.unpack_from("<I", blk, off)[0]
                if first is None:
                    first = ts
                elif ts != prev + 1:
                    gaps += 1
                prev = ts
                if bpf >= 6 and blk[off + bpf - 2]:
                    stim = max(stim, blk[off + bpf - 2])
                    if stim_at is None:
                        stim_at = ts
        return ("wave blocks=%d magic_bad=%d gaps=%d first=%s stim=%d "
                "stim_at=%s" % (blocks, magic_bad, gaps, first, stim,
                                stim_at))

    def step(self, line):
        word, _, rest = line.partition(" ")
        args = rest.split()
        if word in ("cmd", "spike", "wave"):
            return self.connect(word, float(args[0]) if args else 0.0)
        if word == "probe":
            s = self.dial(args[0])
            if s is None:
                return "probe %s refused" % args[0]
            s.close()
            return "probe %s connected" % args[0]
        if word == "close":
            if args[0] in self.sock:
                self.sock.pop(args[0]).close()
            return "close " + args[0]
        if word == "send":
            self.send(rest)
            return "sent"
        if word == "ask":
            text, _, t = rest.partition(" | ")
            self.send(text)
            return self.reply(float(t) if t else 1.0)
        if word == "reply":
            return self.reply(float(args[0]) if args else 1.0)
        if word == "timed":
            t0 = now()
            self.send(rest)
            r = self.reply(5.0)
            return "%s ms=%d" % (r, (now() - t0) * 1000)
        if word == "eof":
            t = float(args[1]) if len(args) > 1 else 3.0
            deadline = now() + t
            while now() < deadline:
                data = self.recv(args[0], deadline - now())
                if data == b"":
                    return "eof"
                if data is None:
                    break
            return "noeof"
        if word == "trigger":
            t = time.monotonic_ns() // 1000
            self.send("execute ManualStimTriggerPulse %s;" % args[0])
            return "trigger us=%d" % t
        if word == "records":
            t = float(args[1]) if len(args) > 1 else 3.0
            recs, stats = self.read_spikes(int(args[0]), t)
            return self.summary(recs, stats)
        if word == "collect":
            recs, stats = self.read_spikes(None, float(args[0]))
            return self.summary(recs, stats)
        if word == "batches":
            return self.batches(int(args[0]), float(args[1]))
        if word == "evoked":
            return self.evoked(args[0], float(args[1]))
        if word == "blocks":
            t = float(args[2]) if len(args) > 2 else 3.0
            return self.wave(int(args[0]), int(args[1]), t)
        if word == "ctl":
            with open(self.fifo, "w") as f:
                f.write(rest + "\n")
            return "ctl"
        if word == "expect":
            count, _, text = rest.partition(" ")
            text, _, t = text.partition(" | ")
            deadline = now() + (float(t) if t else 3.0)
            while True:
                with open(self.stdout_path, encoding="latin-1") as f:
                    n = sum(1 for x in f if x.startswith(text))
                if n >= int(count):
                    return "expect ok"
                if now() >= deadline:
                    return "expect timeout"
                time.sleep(0.02)
        if word == "sleep":
            time.sleep(float(args[0]))
            return "slept"
        return "unknown step " + line


def main():
    ports = {"cmd": int(sys.argv[1]), "spike": int(sys.argv[2]),
             "wave": int(sys.argv[3])}
    fifo = sys.argv[4] if len(sys.argv) > 4 else None
    stdout_path = sys.argv[5] if len(sys.argv) > 5 else None
    client = Client(ports, fifo, stdout_path)
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        tag = ""
        if line.startswith("["):
            tag, _, line = line.partition(" ")
            tag += " "
        try:
            result = client.step(line)
        except (OSError, KeyError, ValueError, IndexError) as e:
            result = "error %s: %s" % (line.split()[0], e)
        print(tag + result, flush=True)


if __name__ == "__main__":
    main()
