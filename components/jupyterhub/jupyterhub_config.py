# JupyterHub configuration for AI-Infra-Matrix. The hub runs as the
# unprivileged user jupyterhub; state (database, cookie secret) lives in
# /srv/jupyterhub. Settings come from the environment:
#   JUPYTERHUB_ADMIN_USERS       comma-separated admin user names
#   JUPYTERHUB_DUMMY_PASSWORD    shared password for the built-in dummy
#                                authenticator (the default); without it
#                                nobody can log in
#   JUPYTERHUB_AUTHENTICATOR     authenticator class or entry point name
#   JUPYTERHUB_SPAWNER           spawner class or entry point name (default
#                                "simple": single-user servers run in this
#                                container as the hub's user)
import os
import secrets

c = get_config()  # noqa: F821 (provided by JupyterHub when loading this file)

c.JupyterHub.bind_url = os.environ.get("JUPYTERHUB_BIND_URL", "http://:8000")
c.JupyterHub.hub_ip = os.environ.get("JUPYTERHUB_HUB_IP", "127.0.0.1")
c.JupyterHub.db_url = "sqlite:////srv/jupyterhub/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "/srv/jupyterhub/jupyterhub_cookie_secret"
c.JupyterHub.pid_file = "/srv/jupyterhub/jupyterhub.pid"
c.ConfigurableHTTPProxy.pid_file = "/srv/jupyterhub/jupyterhub-proxy.pid"

# Prometheus scrapes /hub/metrics without a token.
c.JupyterHub.authenticate_prometheus = False

c.JupyterHub.authenticator_class = os.environ.get("JUPYTERHUB_AUTHENTICATOR", "dummy")
# The dummy authenticator accepts any user name with the shared password; with
# no password configured it would accept anyone, so use an unguessable one.
c.DummyAuthenticator.password = os.environ.get("JUPYTERHUB_DUMMY_PASSWORD") or secrets.token_urlsafe(32)

admins = {u.strip() for u in os.environ.get("JUPYTERHUB_ADMIN_USERS", "").split(",") if u.strip()}
if admins:
    c.Authenticator.admin_users = admins

c.JupyterHub.spawner_class = os.environ.get("JUPYTERHUB_SPAWNER", "simple")
c.Spawner.cmd = ["jupyterhub-singleuser"]
c.Spawner.default_url = "/tree"
