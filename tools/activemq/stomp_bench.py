#!/usr/bin/python3
"""STOMP throughput / latency client for the ActiveMQ anchor (uses Debian's python3-stomp 8.x).
The client that measured ActiveMQ in the shared anchors (anchors/activemq/stomp_bench.py), as it
was; tools/stomp-side-by-side.sh runs it against ActiveMQ and a node.
Each producer and consumer is its own process with its own STOMP connection (no GIL sharing).
Persistent sends ask for a RECEIPT per message and wait for it (= synchronous send, like OpenWire's default
for persistent messages); non-persistent sends are fire-and-forget.
usage: stomp_bench.py tput PORT QUEUE N SIZE persistent(true|false) NPROD NCONS
       stomp_bench.py latency PORT QUEUE RATE SECONDS SIZE persistent WARMUP_SECONDS
"""
import sys, time, threading, multiprocessing as mp
import stomp

HOST = "127.0.0.1"

import os, socket
CLIENT_NODELAY = os.environ.get("STOMP_CLIENT_NODELAY", "1") == "1"

def connect(port, listener=None):
    c = stomp.Connection12([(HOST, port)], heartbeats=(0, 0), auto_content_length=True)
    if listener: c.set_listener("l", listener)
    c.connect(wait=True)
    if CLIENT_NODELAY:  # stomp.py leaves Nagle on; a fair client disables it (OpenWire clients negotiate TcpNoDelay)
        c.transport.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return c

class ReceiptWaiter(stomp.ConnectionListener):
    def __init__(self):
        self.cv = threading.Condition(); self.last = None
    def on_receipt(self, frame):
        with self.cv:
            self.last = frame.headers.get("receipt-id"); self.cv.notify_all()

def producer(port, q, n, size, pers, go, done_ts, idx):
    w = ReceiptWaiter()
    c = connect(port, w)
    body = "x" * size
    go.wait()
    for i in range(n):
        if pers:
            rid = "r%d-%d" % (idx, i)
            c.send(destination="/queue/" + q, body=body, headers={"persistent": "true", "receipt": rid})
            with w.cv:
                deadline = time.time() + 30
                while w.last != rid and time.time() < deadline:
                    w.cv.wait(1)
        else:
            c.send(destination="/queue/" + q, body=body, headers={"persistent": "false"})
    done_ts[idx] = time.time()
    time.sleep(0.2)
    c.disconnect()

class CountListener(stomp.ConnectionListener):
    def __init__(self, counter, n, done_evt, last_ts):
        self.counter, self.n, self.done_evt, self.last_ts = counter, n, done_evt, last_ts
    def on_message(self, frame):
        with self.counter.get_lock():
            self.counter.value += 1
            v = self.counter.value
        if v >= self.n:
            self.last_ts.value = time.time(); self.done_evt.set()

def consumer(port, q, n, counter, done_evt, last_ts, ready):
    c = connect(port, CountListener(counter, n, done_evt, last_ts))
    c.subscribe(destination="/queue/" + q, id="1", ack="auto")
    ready.release()
    done_evt.wait(300)
    c.disconnect()

def tput(port, q, n, size, pers, npr, nco):
    counter = mp.Value("l", 0); last_ts = mp.Value("d", 0.0); done_evt = mp.Event(); go = mp.Event()
    ready = mp.Semaphore(0); done_ts = mp.Array("d", npr)
    cons = [mp.Process(target=consumer, args=(port, q, n, counter, done_evt, last_ts, ready)) for _ in range(nco)]
    for p in cons: p.start()
    for _ in range(nco): ready.acquire(timeout=30)
    per = [n // npr + (1 if i < n % npr else 0) for i in range(npr)]
    prods = [mp.Process(target=producer, args=(port, q, per[i], size, pers, go, done_ts, i)) for i in range(npr)]
    for p in prods: p.start()
    time.sleep(1.0)
    t0 = time.time(); go.set()
    ok = done_evt.wait(300)
    t1 = last_ts.value if ok else time.time()
    for p in prods: p.join(30)
    for p in cons: p.join(30)
    for p in prods + cons:
        if p.is_alive(): p.terminate()
    secs = t1 - t0; sends = max(done_ts[:]) - t0
    print("STOMP_TPUT n=%d size=%d persistent=%s prod=%d cons=%d ok=%s received=%d secs=%.3f rate=%.1f send_only_rate=%.1f"
          % (n, size, pers, npr, nco, ok, counter.value, secs, counter.value / secs, n / sends), flush=True)

class LatListener(stomp.ConnectionListener):
    def __init__(self, total, done):
        self.lat = [None] * total; self.got = 0; self.total = total; self.done = done
    def on_message(self, frame):
        t = time.monotonic()   # CLOCK_MONOTONIC: same clock in every process on Linux
        seq = int(frame.headers["seq"]); self.lat[seq] = t - float(frame.headers["ts"])
        self.got += 1
        if self.got >= self.total: self.done.set()

def lat_consumer(port, q, total, ready, done, res):
    L = LatListener(total, done)
    cc = connect(port, L); cc.subscribe(destination="/queue/" + q, id="1", ack="auto")
    ready.set()
    done.wait(600)
    res.put(L.lat)
    cc.disconnect()

def latency(port, q, rate, secs, size, pers, warm):
    # consumer in its own process (own GIL); producer paced open-loop with sleep (no spinning on a 2-core box)
    total = rate * (secs + warm); warm_n = rate * warm
    ready, done, res = mp.Event(), mp.Event(), mp.Queue()
    cp = mp.Process(target=lat_consumer, args=(port, q, total, ready, done, res)); cp.start()
    ready.wait(30)
    w = ReceiptWaiter(); pc = connect(port, w)
    body = "x" * size; interval = 1.0 / rate; t0 = time.monotonic(); late = 0
    for i in range(total):
        sched = t0 + i * interval
        d = sched - time.monotonic()
        if d > 0: time.sleep(d)
        if time.monotonic() - sched > 0.001: late += 1
        h = {"persistent": "true" if pers else "false", "seq": str(i), "ts": repr(sched)}
        if pers:
            h["receipt"] = "r%d" % i
        pc.send(destination="/queue/" + q, body=body, headers=h)
        if pers:
            with w.cv:
                dl = time.time() + 30
                while w.last != h["receipt"] and time.time() < dl: w.cv.wait(1)
    send_secs = time.monotonic() - t0
    ok = done.wait(60)
    try: lat_all = res.get(timeout=30)
    except Exception: lat_all = [None] * total
    cp.join(30)
    if cp.is_alive(): cp.terminate()
    lat = sorted(x for x in lat_all[warm_n:] if x is not None); m = len(lat)
    print("STOMP_LAT rate=%d persistent=%s n=%d ok=%s achieved_send_rate=%.1f sent_late_gt1ms=%d p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f"
          % (rate, pers, m, ok, total / send_secs, late, lat[m // 2] * 1e6, lat[int(m * .9)] * 1e6, lat[int(m * .99)] * 1e6,
             lat[min(m - 1, int(m * .999))] * 1e6, lat[-1] * 1e6), flush=True)
    pc.disconnect()

if __name__ == "__main__":
    a = sys.argv
    if a[1] == "tput":
        tput(int(a[2]), a[3], int(a[4]), int(a[5]), a[6] == "true", int(a[7]), int(a[8]))
    elif a[1] == "latency":
        latency(int(a[2]), a[3], int(a[4]), int(a[5]), int(a[6]), a[7] == "true", int(a[8]))
