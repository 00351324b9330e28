#!/usr/bin/env python3
"""salt-standin: a stand-in for salt-master that serves a Salt state tree.

Debian bookworm ships no Salt, so AI-Infra-Matrix uses this small server:
minions (or tests) fetch their states over HTTP.

  GET /healthz          ok
  GET /top              top.sls of the environment, as JSON
  GET /states           names of all states, as JSON
  GET /states/<name>    one state (a.b means a/b.sls or a/b/init.sls), as JSON
  GET /minions/<id>     the states top.sls assigns to minion <id>, as JSON

  salt-standin [--root DIR] [--env NAME] [--addr HOST] [--port N]
  salt-standin --check      validate the tree and exit
  salt-standin --version
"""

import argparse
import fnmatch
import json
import os
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

VERSION = "0.1.0"

# A state name: dot-separated path components, never "..", "/" or absolute.
NAME_RE = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")


class Tree:
    """A Salt file root for one environment (e.g. /srv/salt/base)."""

    def __init__(self, root, env):
        self.root = root
        self.env = env
        self.dir = os.path.join(root, env)

    def path(self, name):
        if not NAME_RE.match(name):
            return None
        rel = name.replace(".", os.sep)
        for candidate in (rel + ".sls", os.path.join(rel, "init.sls")):
            p = os.path.join(self.dir, candidate)
            if os.path.isfile(p):
                return p
        return None

    def load(self, name):
        p = self.path(name)
        if p is None:
            raise KeyError(name)
        with open(p, encoding="utf-8") as f:
            return yaml.safe_load(f) or {}

    def names(self):
        out = []
        for dirpath, _, files in os.walk(self.dir):
            for f in files:
                if not f.endswith(".sls"):
                    continue
                rel = os.path.relpath(os.path.join(dirpath, f), self.dir)[: -len(".sls")]
                parts = rel.split(os.sep)
                if parts[-1] == "init":
                    parts = parts[:-1]
                name = ".".join(parts)
                if name and name != "top":
                    out.append(name)
        return sorted(out)

    def top(self):
        return self.load("top")

    def for_minion(self, minion):
        states = []
        for pattern, names in (self.top().get(self.env) or {}).items():
            if fnmatch.fnmatchcase(minion, pattern):
                states.extend(n for n in names if n not in states)
        return states

    def check(self):
        """Return a list of problems (empty when the tree is valid)."""
        problems = []
        if self.path("top") is None:
            return ["%s: no top.sls" % self.dir]
        for name in self.names() + ["top"]:
            try:
                data = self.load(name)
            except yaml.YAMLError as e:
                problems.append("%s: %s" % (self.path(name), e))
                continue
            if not isinstance(data, dict):
                problems.append("%s: not a mapping" % self.path(name))
        if problems:
            return problems
        top = self.top()
        if self.env not in top:
            problems.append("top.sls has no %r environment" % self.env)
        for pattern, names in (top.get(self.env) or {}).items():
            for n in names or []:
                if self.path(n) is None:
                    problems.append("top.sls: %s -> %s: no such state" % (pattern, n))
        return problems


def handler(tree):
    class Handler(BaseHTTPRequestHandler):
        server_version = "salt-standin/" + VERSION

        def send(self, code, body, ctype="application/json"):
            data = body.encode() if isinstance(body, str) else json.dumps(body, indent=2).encode()
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            try:
                if path == "/healthz":
                    return self.send(200, "ok\n", "text/plain")
                if path == "/top":
                    return self.send(200, tree.top())
                if path == "/states":
                    return self.send(200, tree.names())
                if path.startswith("/states/"):
                    return self.send(200, tree.load(path[len("/states/"):]))
                if path.startswith("/minions/"):
                    return self.send(200, tree.for_minion(path[len("/minions/"):]))
            except KeyError as e:
                return self.send(404, {"error": "no state %s" % e})
            except yaml.YAMLError as e:
                return self.send(500, {"error": str(e)})
            return self.send(404, {"error": "not found"})

    return Handler


def main(argv=None):
    p = argparse.ArgumentParser(description="Serve a Salt state tree over HTTP (salt-master stand-in).")
    p.add_argument("--root", default=os.environ.get("SALT_ROOT", "/srv/salt"))
    p.add_argument("--env", default=os.environ.get("SALT_ENV", "base"))
    p.add_argument("--addr", default="0.0.0.0")
    p.add_argument("--port", type=int, default=4506)
    p.add_argument("--check", action="store_true", help="validate the state tree and exit")
    p.add_argument("--version", action="store_true")
    a = p.parse_args(argv)
    if a.version:
        print("salt-standin %s (python %s)" % (VERSION, sys.version.split()[0]))
        return 0
    tree = Tree(a.root, a.env)
    problems = tree.check()
    if a.check:
        for pr in problems:
            print("salt-standin: " + pr, file=sys.stderr)
        if not problems:
            print("salt-standin: %d states ok in %s" % (len(tree.names()), tree.dir))
        return 1 if problems else 0
    if problems:
        for pr in problems:
            print("salt-standin: warning: " + pr, file=sys.stderr)
    srv = ThreadingHTTPServer((a.addr, a.port), handler(tree))
    print("salt-standin %s serving %s on %s:%d" % (VERSION, tree.dir, a.addr, a.port), flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
