"""Our own scripts and styles made small before they are hashed: esbuild ``--minify``.

esbuild comes from npm (a devDependency in package.json, installed by ``make setup``) and runs
here, when ``assets`` builds its hashed copies, not as a separate step: a checkout that was built
once serves the same bytes however it is started, and nothing minified is committed. Each result
is kept in a cache folder beside the assets, under the hash of what went in, so a file is
minified once per change, not once per process. Without esbuild the files go out as written and
one warning says so. Vendor files (``vendor/``) are already minified and are left alone.
"""

import hashlib
import logging
import subprocess
import time
from pathlib import Path

ESBUILD = Path(__file__).resolve().parent / "node_modules" / ".bin" / "esbuild"
LOADERS = {".js": "js", ".css": "css"}  # esbuild's name for each kind of file it minifies
VENDOR = "vendor/"

log = logging.getLogger(__name__)


class Minifier:
    """Minify a static file's bytes with esbuild, cached in ``cache_dir`` by their hash."""

    def __init__(self, cache_dir, write, esbuild=ESBUILD):
        self.cache_dir = Path(cache_dir)
        self.write = write  # atomic: several workers may build at once
        self.esbuild = Path(esbuild)
        self.used = set()  # cache files this process has asked for: the ones pruning keeps
        self.warned = False

    @property
    def available(self):
        """Whether esbuild is installed (``make setup``)."""
        return self.esbuild.is_file()

    def __call__(self, name, data):
        """``data`` minified if ``name`` is one of our scripts or styles, else as it is."""
        suffix = Path(name).suffix
        if name.startswith(VENDOR) or suffix not in LOADERS:
            return data
        cached = self.cache_dir / (hashlib.sha256(data).hexdigest()[:24] + suffix)
        self.used.add(cached.name)
        if cached.is_file():
            return cached.read_bytes()
        if not self.available:
            self.warn_once()
            return data
        minified = self.run(name, data)
        if minified is None:
            return data
        self.write(cached, minified)
        return minified

    def run(self, name, data):
        """esbuild on ``data`` through a pipe (no temporary file, no source map); None, logged,
        when it refuses the file: then it goes out as written, as broken or not as it was."""
        loader = LOADERS[Path(name).suffix]
        command = [str(self.esbuild), "--minify", f"--loader={loader}", "--log-level=error"]
        done = subprocess.run(command, input=data, capture_output=True, timeout=60, check=False)
        if done.returncode != 0:
            log.error("esbuild could not minify %s: %s", name, done.stderr.decode(errors="replace"))
            return None
        return done.stdout

    def warn_once(self):
        """One line in the log: the files are served as written, larger than they need to be."""
        if not self.warned:
            self.warned = True
            log.warning(
                "no esbuild at %s (`make setup`): static files go out unminified", self.esbuild
            )

    def prune(self, older_than):
        """Forget cached results this process did not use, unused since ``older_than`` seconds."""
        limit = time.time() - older_than
        for path in self.cache_dir.glob("*"):
            if path.name not in self.used and path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
