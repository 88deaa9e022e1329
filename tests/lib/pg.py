"""A throw-away PostgreSQL 15 (Debian's) for the tests of the PostgreSQL state store: initialised
in a temporary directory, run as the unprivileged `postgres` user (or the current one when that is
not root), listening on a loopback port only, stopped and removed afterwards."""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile

BIN = "/usr/lib/postgresql/15/bin"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    def __init__(self, user="stp", dbname="stp"):
        self.user, self.dbname = user, dbname
        self.port = _free_port()
        self.dir = tempfile.mkdtemp(prefix="stp-pg.")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "log")
        self.runas = None
        if os.getuid() == 0:  # initdb refuses root
            self.runas = pwd.getpwnam("postgres")
            os.chown(self.dir, self.runas.pw_uid, self.runas.pw_gid)
        self.running = False

    def _cmd(self, argv):
        if self.runas:
            return ["runuser", "-u", self.runas.pw_name, "--"] + argv
        return argv

    def _run(self, argv, **kw):
        return subprocess.run(self._cmd(argv), check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, **kw)

    def init(self):
        self._run([os.path.join(BIN, "initdb"), "-D", self.data, "-U", self.user, "-A", "trust",
                   "--no-sync", "-E", "UTF8", "--locale=C"])
        with open(os.path.join(self.data, "postgresql.conf"), "a") as fh:
            # loopback only; commits are durable as in production (the tests count acknowledged writes)
            fh.write(f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                     f"unix_socket_directories = '{self.dir}'\nfsync = on\nsynchronous_commit = on\n"
                     "max_connections = 200\n")
        self.start()
        self._run([os.path.join(BIN, "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user,
                   self.dbname])
        return self

    def start(self):
        # -w: pg_ctl returns when the server accepts connections
        self._run([os.path.join(BIN, "pg_ctl"), "-D", self.data, "-l", self.log, "-w", "start"])
        self.running = True

    def stop(self, mode="fast"):
        if self.running:
            self._run([os.path.join(BIN, "pg_ctl"), "-D", self.data, "-m", mode, "-w", "stop"])
            self.running = False

    def kill(self):
        """SIGKILL of the postmaster (a crash); start() recovers from the WAL."""
        with open(os.path.join(self.data, "postmaster.pid")) as fh:
            pid = int(fh.readline())
        os.kill(pid, 9)
        subprocess.run(["sh", "-c", f"while kill -0 {pid} 2>/dev/null; do :; done"], check=False)
        self.running = False
        # its children exit when the postmaster is gone; pg_ctl start waits for the port to be free
        try:
            os.unlink(os.path.join(self.data, "postmaster.pid"))
        except FileNotFoundError:
            pass

    def params(self):
        """The connection parameters as httpd's DBDParams and stpctl --dbd take them."""
        return f"host=127.0.0.1 port={self.port} dbname={self.dbname} user={self.user}"

    def psql(self, sql):
        out = self._run([os.path.join(BIN, "psql") if os.path.exists(os.path.join(BIN, "psql")) else "psql",
                         "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "-d", self.dbname,
                         "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
        return out.stdout.strip()

    def close(self):
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.init()

    def __exit__(self, *exc):
        self.close()
