"""Write a runnable nginx.conf from deploy/nginx.conf.template into a prefix folder of its own.

Why a renderer: the same template serves `make serve-public` and the tests (free loopback ports, temporary
prefixes), so the configuration the tests prove is the one operators run.
Usage: python deploy/render_nginx.py --listen 127.0.0.1:8080 --upstream 127.0.0.1:8050 --prefix DIR
"""
from __future__ import annotations

import argparse
import os
import pwd
from pathlib import Path

TEMPLATE = Path(__file__).with_name("nginx.conf.template")
TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def render(listen: str, upstream: str, prefix: Path) -> Path:
    """The config written to `prefix/nginx.conf`, with its temporary folders made (writable by nginx's workers:
    as root, nginx runs them as www-data, else as the current user)."""
    prefix = prefix.resolve()
    prefix.mkdir(parents=True, exist_ok=True)
    user = ""
    owner = None
    if os.geteuid() == 0:
        name = next((n for n in ("www-data", "nobody") if _exists(n)), "root")
        user, owner = f"user {name};", pwd.getpwnam(name)
        prefix.chmod(prefix.stat().st_mode | 0o111)  # its workers reach the temporary folders through it
    for name in TEMP_DIRS:
        (prefix / name).mkdir(exist_ok=True)
        if owner:
            os.chown(prefix / name, owner.pw_uid, owner.pw_gid)
    text = TEMPLATE.read_text(encoding="utf-8")
    for key, value in {"@LISTEN@": listen, "@UPSTREAM@": upstream, "@PREFIX@": str(prefix), "@USER@": user}.items():
        text = text.replace(key, value)
    conf = prefix / "nginx.conf"
    conf.write_text(text, encoding="utf-8")
    return conf


def _exists(user: str) -> bool:
    try:
        pwd.getpwnam(user)
        return True
    except KeyError:
        return False


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default="127.0.0.1:8080")
    parser.add_argument("--upstream", default="127.0.0.1:8050")
    parser.add_argument("--prefix", type=Path, required=True)
    args = parser.parse_args()
    print(render(args.listen, args.upstream, args.prefix))
