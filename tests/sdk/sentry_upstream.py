"""A Sentry upstream for the tests, judged by sentry_relay: the register challenge,
register response and project-config endpoints do what Sentry's do
(src/sentry/api/endpoints/relay/register_challenge.py, register_response.py,
project_configs.py), calling the same sentry_relay functions.

Usage: sentry_upstream.py CONFIG.json. CONFIG holds:
  open_registration  bool: anyone may register (Sentry's SENTRY_RELAY_OPEN_REGISTRATION)
  allowed            [public key]: may register when registration is closed
  registered         {relay id: public key}: relays Sentry already knows
  projects           {DSN public key: [trusted relay public keys]}
  min_version        refuse relay versions below this one (a Sentry whose relay moved on)
  mode               "" or one fault for every request: redirect, huge, not_json
  tls_cert, tls_key  serve HTTPS with these PEM files
  wire_log           append every request (path, headers named in lower case, body) here, one JSON per line
Prints the port on stdout once listening.
"""

import http.server
import json
import ssl
import sys
import threading

import sentry_relay

SECRET = "upstream-test-secret"
MAX_AGE = 60

config = json.load(open(sys.argv[1]))
registered = dict(config.get("registered", {}))
lock = threading.Lock()


def version_tuple(v):
    return tuple(int(p) for p in (v or "0.0.0").split("-")[0].split("."))


class Upstream(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, doc, raw=None):
        body = raw if raw is not None else json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if config.get("wire_log"):
            with lock, open(config["wire_log"], "a") as f:
                f.write(json.dumps({
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body.decode("utf-8", "replace"),
                }) + "\n")
        mode = config.get("mode", "")
        if mode == "redirect":
            self.send_response(302)
            self.send_header("Location", "https://elsewhere.example/api/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if mode == "huge":
            return self.answer(200, None, raw=b"[" + b"0," * (512 * 1024) + b"0]")
        if mode == "not_json":
            return self.answer(200, None, raw=b"<html>a captive portal</html>")
        path = self.path.split("?")[0]
        routes = {
            "/api/0/relays/register/challenge/": self.challenge,
            "/api/0/relays/register/response/": self.response,
            "/api/0/relays/projectconfigs/": self.project_configs,
        }
        if path not in routes:
            return self.answer(404, {"detail": "not found"})
        routes[path](body)

    def challenge(self, body):
        try:
            data = json.loads(body)
        except ValueError:
            return self.answer(400, {"detail": "No valid json body"})
        missing = {k: ["This field is required."] for k in ("relay_id", "public_key") if not data.get(k)}
        if missing:
            return self.answer(400, missing)
        if not sentry_relay.is_version_supported(data.get("version")) or version_tuple(
            data.get("version")
        ) < version_tuple(config.get("min_version")):
            return self.answer(403, {"detail": "Relay version no longer supported, please upgrade to a more recent version"})
        public_key = data["public_key"]
        if not config.get("open_registration", True) and public_key not in config.get("allowed", []):
            return self.answer(403, {"detail": "Relay is not allowed to register"})
        sig = self.headers.get("X-Sentry-Relay-Signature")
        if not sig:
            return self.answer(400, {"detail": "Missing relay signature"})
        try:
            challenge = sentry_relay.create_register_challenge(body, sig, SECRET, MAX_AGE)
        except Exception as exc:
            return self.answer(400, {"detail": str(exc).splitlines()[0]})
        relay_id = str(challenge["relay_id"])
        if relay_id != self.headers.get("X-Sentry-Relay-Id"):
            return self.answer(400, {"detail": "relay_id in payload did not match header"})
        with lock:
            known = registered.get(relay_id)
        if known is not None and known != public_key:
            return self.answer(400, {"detail": "Attempted to register agent with a different public key"})
        self.answer(200, {"relay_id": relay_id, "token": challenge["token"]})

    def response(self, body):
        sig = self.headers.get("X-Sentry-Relay-Signature")
        if not sig:
            return self.answer(400, {"detail": "Missing relay signature"})
        try:
            validated = sentry_relay.validate_register_response(body, sig, SECRET, MAX_AGE)
        except sentry_relay.UnpackErrorSignatureExpired:
            return self.answer(401, {"detail": "Challenge expired"})
        except Exception as exc:
            return self.answer(400, {"detail": str(exc).splitlines()[0]})
        relay_id = str(validated["relay_id"])
        if relay_id != self.headers.get("X-Sentry-Relay-Id"):
            return self.answer(400, {"detail": "relay_id in payload did not match header"})
        with lock:
            registered.setdefault(relay_id, validated["public_key"])
        self.answer(200, {"relay_id": relay_id})

    def project_configs(self, body):
        # Sentry's RelayAuthentication: a registered relay, its signature over the body.
        relay_id = self.headers.get("X-Sentry-Relay-Id", "")
        with lock:
            public_key = registered.get(relay_id)
        if public_key is None:
            return self.answer(401, {"detail": "Unknown relay"})
        sig = self.headers.get("X-Sentry-Relay-Signature", "")
        if not sentry_relay.PublicKey.parse(public_key).verify(body, sig, MAX_AGE):
            return self.answer(401, {"detail": "Invalid relay signature"})
        data = json.loads(body)
        if data.get("fullConfig"):
            return self.answer(403, "Relay unauthorized for full config information")
        configs = {}
        for key in data.get("publicKeys") or ():
            trusted = config.get("projects", {}).get(key)
            if trusted is not None and public_key in trusted:
                configs[key] = {"disabled": False, "slug": "test", "publicKeys": [{"publicKey": key}]}
            else:
                configs[key] = {"disabled": True}
        self.answer(200, {"configs": configs})


class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A client that hangs up on a huge answer is what the test wants, not an error.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


server = Server(("127.0.0.1", 0), Upstream)
if config.get("tls_cert"):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(config["tls_cert"], config["tls_key"])
    server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
