"""@stomp/stompjs for the browser test: fetched from npm's registry with Debian's npm at test
time (`npm pack`, nothing installed, nothing committed), its UMD bundle kept in
<build>/stompjs-cache between runs."""

import os
import shutil
import subprocess
import tarfile
import tempfile

import harness

PACKAGE = "@stomp/stompjs@7"
BUNDLE_MEMBER = "package/bundles/stomp.umd.js"


def cache_dir():
    return os.path.join(os.path.dirname(os.path.abspath(harness.bin_dir())), "stompjs-cache")


def in_ci():
    return os.environ.get("CI", "").lower() not in ("", "0", "false")


def fetch_bundle(timeout=60):
    """(path of stomp.umd.js, None), or (None, why it could not be fetched)."""
    cache = cache_dir()
    bundle = os.path.join(cache, "stomp.umd.js")
    if os.path.isfile(bundle) and os.path.getsize(bundle) > 0:
        return bundle, None
    npm = shutil.which("npm")
    if not npm:
        return None, ("npm is not installed: tools/install-deps.sh --browser installs Debian's npm, "
                      "which fetches %s for this test" % PACKAGE)
    os.makedirs(cache, exist_ok=True)
    work = tempfile.mkdtemp(prefix="pack-", dir=cache)
    try:
        env = dict(os.environ, npm_config_cache=os.path.join(cache, "npm"),
                   npm_config_update_notifier="false", npm_config_fund="false",
                   npm_config_audit="false")
        try:
            p = subprocess.run([npm, "pack", PACKAGE, "--pack-destination", work, "--silent"],
                               cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, "npm pack %s did not finish within %d s" % (PACKAGE, timeout)
        tarballs = [f for f in os.listdir(work) if f.endswith(".tgz")]
        if p.returncode != 0 or not tarballs:
            return None, ("npm pack %s failed (exit %d): %s" %
                          (PACKAGE, p.returncode, p.stderr.decode("utf-8", "replace")[-800:]))
        with tarfile.open(os.path.join(work, tarballs[0])) as tar:
            try:
                data = tar.extractfile(BUNDLE_MEMBER).read()
            except (KeyError, AttributeError):
                return None, "%s has no %s" % (tarballs[0], BUNDLE_MEMBER)
        partial = bundle + ".part"
        with open(partial, "wb") as f:
            f.write(data)
        os.replace(partial, bundle)
        return bundle, None
    finally:
        shutil.rmtree(work, ignore_errors=True)
