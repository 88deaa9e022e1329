"""The demo's real parts for end-to-end tests: the example content published, the local OpenID
provider (conf/oidc/provider.mjs, npm oidc-provider) and httpd with the demo configuration
(conf/demo-httpd.conf.in: mod_auth_openidc in front of mod_stp), on free loopback ports.

    demo = Demo(run)          # run: a directory of harness.make_run_dir()
    demo.start()              # raises RuntimeError when a part does not come up
    ... demo.base, demo.port, demo.oidc_port, demo.httpd, demo.error_log ...
    demo.stop()"""

import os
import secrets
import subprocess

import harness

CONTENT = os.path.join(harness.ROOT, "content")


class Demo:
    def __init__(self, run):
        self.run = run
        self.port, self.oidc_port = harness.free_port(), harness.free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.provider = self.httpd = None
        self.error_log = os.path.join(run, "logs", "error.log")  # where conf/demo-httpd.conf.in logs

    def start(self):
        os.makedirs(os.path.join(self.run, "logs"), exist_ok=True)
        harness.publish(CONTENT, os.path.join(self.run, "site"))
        # Secrets for this run: mod_stp refuses placeholders, and fixed values would be ones.
        client_secret, passphrase = secrets.token_hex(24), secrets.token_hex(32)
        env = dict(os.environ, STP_OIDC_PORT=str(self.oidc_port), STP_OIDC_CLIENT_SECRET=client_secret,
                   STP_OIDC_REDIRECT_URIS=f"{self.base}/stp/oidc-callback")
        # stdin from /dev/null: node would make an inherited descriptor non-blocking under our caller.
        self.provider = subprocess.Popen(["node", os.path.join(harness.ROOT, "conf", "oidc", "provider.mjs")], env=env,
                                         stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                         start_new_session=True)
        line = self.provider.stdout.readline()  # the provider says when it listens
        if "listening" not in line:
            raise RuntimeError(f"the OpenID provider did not start: {line}")
        values = {"PORT": self.port, "OIDC_PORT": self.oidc_port, "MODDIR": harness.module_dir(), "RUN": self.run,
                  "ROOT": harness.ROOT, "OIDC_CLIENT_SECRET": client_secret, "OIDC_CRYPTO_PASSPHRASE": passphrase}
        with open(os.path.join(harness.ROOT, "conf", "oidc", "httpd-openidc.conf.in"), encoding="utf-8") as fh:
            text = fh.read()
        for k, v in values.items():
            text = text.replace(f"@{k}@", str(v))
        with open(os.path.join(self.run, "openidc.conf"), "w", encoding="utf-8") as fh:
            fh.write(text)
        self.httpd = harness.Httpd(self.run, "conf/demo-httpd.conf.in", {"PORT": self.port, "OIDC_PORT": self.oidc_port})
        self.httpd.start()

    def stop(self):
        if self.httpd:
            self.httpd.stop()
        if self.provider:
            self.provider.terminate()
            self.provider.wait(timeout=30)
