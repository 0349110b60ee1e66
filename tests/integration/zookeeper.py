"""A ZooKeeper server of a test's own: Debian's package (zookeeperd, tools/install-deps.sh) run in
the foreground with a generated config, on a free loopback port, with its own data folder, and
stopped by its PID. Never the system service.

    zk = zookeeper.Server(workdir)      # workdir: a folder the test owns
    zk.start()                          # waits until it answers "srvr" as standalone
    zk.address                          # "127.0.0.1:PORT", for a node's replication.zk_address
    zk.kill()                           # SIGKILL by PID (stop(): SIGTERM, then SIGKILL)

Standard library only: the server is asked with ZooKeeper's four-letter words over a socket.
"""

import os
import signal
import socket
import time

import harness

JAR = "/usr/share/java/zookeeper.jar"
# The server logs through SLF4J; the simple binding writes to stderr (the Proc's file).
LOG_BINDING = "/usr/share/java/slf4j-simple.jar"
JAVA = "/usr/bin/java"
MAIN = "org.apache.zookeeper.server.quorum.QuorumPeerMain"
START_TIMEOUT = 30.0


def missing():
    """A message naming what is missing to run a ZooKeeper server, or None."""
    absent = [p for p in (JAVA, JAR) if not os.path.exists(p)]
    if not absent:
        return None
    return ("ZooKeeper not found (%s): install Debian's zookeeperd (tools/install-deps.sh)"
            % ", ".join(absent))


def four_letter(port, word, timeout=2.0):
    """The server's answer to a four-letter word ("srvr", "ruok", ...), or None if it does not
    answer."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(word.encode())
            chunks = []
            while True:
                data = s.recv(4096)
                if not data:
                    break
                chunks.append(data)
            return b"".join(chunks).decode("utf-8", "replace")
    except OSError:
        return None


class Server:
    """One standalone ZooKeeper server in `workdir`/zookeeper-PORT (config, data, log)."""

    def __init__(self, workdir, port=None, tick_ms=500, min_session_ms=1000,
                 max_session_ms=30000):
        self.port = port or harness.free_port()
        self.folder = os.path.join(workdir, "zookeeper-%d" % self.port)
        self.data_dir = os.path.join(self.folder, "data")
        self.config_path = os.path.join(self.folder, "zoo.cfg")
        self.tick_ms = tick_ms
        self.min_session_ms = min_session_ms
        self.max_session_ms = max_session_ms
        self.proc = None

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def _write_config(self):
        os.makedirs(self.data_dir, exist_ok=True)
        with open(self.config_path, "w") as f:
            f.write("tickTime=%d\n" % self.tick_ms)
            f.write("dataDir=%s\n" % self.data_dir)
            f.write("clientPort=%d\n" % self.port)
            f.write("clientPortAddress=127.0.0.1\n")
            f.write("minSessionTimeout=%d\n" % self.min_session_ms)
            f.write("maxSessionTimeout=%d\n" % self.max_session_ms)
            f.write("admin.enableServer=false\n")  # no Jetty on port 8080
            f.write("4lw.commands.whitelist=srvr,ruok,stat\n")

    def start(self, timeout=START_TIMEOUT):
        """Starts the server and waits until it serves; raises AssertionError (with its log
        tail) if it exits or does not serve within `timeout` s."""
        msg = missing()
        if msg:
            raise AssertionError(msg)
        self._write_config()
        classpath = JAR + (":" + LOG_BINDING if os.path.exists(LOG_BINDING) else "")
        argv = [JAVA, "-Xmx256m", "-Dzookeeper.jmx.log4j.disable=true", "-cp", classpath, MAIN,
                self.config_path]
        self.proc = harness.Proc(argv, self.folder, "zookeeper")
        deadline = time.monotonic() + timeout
        while not self.serving():
            if not self.proc.running():
                raise AssertionError("ZooKeeper exited before it served:\n" + self.proc.describe())
            if time.monotonic() > deadline:
                raise AssertionError("ZooKeeper did not serve within %.0f s:\n%s"
                                     % (timeout, self.proc.describe()))
            time.sleep(0.1)
        return self

    def serving(self):
        answer = four_letter(self.port, "srvr", timeout=1.0)
        return answer is not None and "Mode: standalone" in answer

    def running(self):
        return self.proc is not None and self.proc.running()

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def kill(self):
        """SIGKILL by PID, then reap."""
        if self.proc is not None:
            self.proc.kill()

    def stop(self, timeout=harness.STOP_TIMEOUT):
        """SIGTERM by PID; SIGKILL if it still runs after `timeout` s."""
        if self.proc is None or not self.proc.running():
            return
        self.proc.signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except TimeoutError:
            self.proc.kill()

    def log(self):
        return self.proc.stderr if self.proc else ""
