"""gunicorn behind nginx: slow clients starve nobody, and the console works over HTTPS.

A sync worker reads a whole request itself, so a client that sends its headers slowly holds
a worker; nginx reads whole requests on its event loop and hands gunicorn only complete ones
(proxy_request_buffering, on by default). docs/nginx.conf is the configuration the README
recommends; this test runs that file, with only its ports, paths and certificate filled in.
"""
import ipaddress
import json
import shutil
import socket
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from console_helpers import CSRF_FIELD, KEYS_PAGE, PASSWORD, SECRET, add_operator
from processes import connect, free_port, send_json, terminate_group
from services import skip_or_fail
from test_multiprocess import Gunicorn, provision
from vorel_lite import create_app

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SLOW_CLIENTS = 250
WORKERS = 2
OPERATOR = "owner@example.com"


@pytest.fixture(autouse=True)
def nginx_installed():
    """Skip (fail under CI) without nginx."""
    if not Path(NGINX).exists():
        skip_or_fail("no nginx: `apt-get install nginx-light` (.ci/run installs it) to run these")


def slow_connections(port, count):
    """Open count connections that send the start of a request and never finish it."""
    connections = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(b"GET /api/v1/leads HTTP/1.1\r\nHost: x\r\n")
        connections.append(sock)
    return connections


def leads_status(port, key, timeout):
    """GET /api/v1/leads with key; return the status, or None if no answer came in time."""
    try:
        status, _, _ = send_json(connect(port, timeout), "GET", "/api/v1/leads",
                                 {"Authorization": f"Bearer {key}"})
        return status
    except OSError:
        return None


@pytest.fixture
def gunicorn(tmp_path):
    """gunicorn as the README runs it behind nginx (HTTPS): tenant acme, its key and operator."""
    database, instance, key = provision(tmp_path)
    app = create_app({"DATABASE_URL": database, "INSTANCE_PATH": str(instance)})
    add_operator(app, OPERATOR, "acme")
    app.extensions["vorel_db"].close_all()
    with Gunicorn(tmp_path, database, instance, workers=WORKERS,
                  settings={"METRICS_ENABLED": "true", "TRUSTED_PROXIES": 1,
                            "SESSION_COOKIE_SECURE": "true"}) as running:
        running.wait_until_serving(key)
        yield running, key


def run_nginx(directory, listen, upstream_port, ready):
    """Start docs/nginx.conf with `listen 80;` made listen; return its process once ready()."""
    directory.mkdir()
    config = (ROOT / "docs" / "nginx.conf").read_text()
    config = (config.replace("listen 80;", listen)
              .replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream_port};"))
    (directory / "nginx.conf").write_text(
        f"daemon off;\nuser root root;\npid {directory}/nginx.pid;\n"
        f"error_log {directory}/error.log;\n" + config.replace(
            "http {", f"http {{\n    access_log off;\n    client_body_temp_path {directory};\n"
                      f"    proxy_temp_path {directory};", 1))
    process = subprocess.Popen([NGINX, "-p", str(directory), "-c", "nginx.conf"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                               start_new_session=True)
    deadline = time.monotonic() + 30
    while not ready():
        assert process.poll() is None, (directory / "error.log").read_text()
        assert time.monotonic() < deadline, "nginx did not serve within 30 s"
        time.sleep(0.1)
    return process


@pytest.fixture
def nginx(tmp_path, gunicorn):
    server, key = gunicorn
    port = free_port()
    process = run_nginx(tmp_path / "nginx", f"listen 127.0.0.1:{port};", server.port,
                        lambda: leads_status(port, key, 2) == 200)
    yield port, key
    terminate_group(process, 30)


def self_signed_certificate(directory):
    """Write a certificate for 127.0.0.1 and its key; return their paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(timezone.utc)
    certificate = (x509.CertificateBuilder()
                   .subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(hours=1))
                   .not_valid_after(now + timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName(
                       [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                                  critical=True)
                   .sign(key, hashes.SHA256()))
    directory.mkdir()
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def nginx_https(tmp_path, gunicorn):
    """docs/nginx.conf over HTTPS; yield (its base URL, the certificate to trust)."""
    import requests
    server, _ = gunicorn
    port = free_port()
    cert_path, key_path = self_signed_certificate(tmp_path / "tls")
    base_url = f"https://127.0.0.1:{port}"

    def ready():
        try:
            return requests.get(f"{base_url}/healthz", verify=str(cert_path), timeout=2).ok
        except requests.RequestException:
            return False

    process = run_nginx(tmp_path / "nginx", f"listen 127.0.0.1:{port} ssl;\n"
                        f"        ssl_certificate {cert_path};\n"
                        f"        ssl_certificate_key {key_path};", server.port, ready)
    yield base_url, str(cert_path)
    terminate_group(process, 30)


def test_a_few_slow_clients_starve_gunicorn_alone(gunicorn):
    server, key = gunicorn
    slow = slow_connections(server.port, 2 * WORKERS)
    try:
        assert leads_status(server.port, key, 3) is None
    finally:
        for sock in slow:
            sock.close()


def test_behind_nginx_250_slow_clients_starve_nobody(nginx):
    port, key = nginx
    slow = slow_connections(port, SLOW_CLIENTS)
    try:
        for _ in range(3):
            for sock in slow:
                sock.sendall(b"X-Slow: 1\r\n")
            assert leads_status(port, key, 10) == 200
            time.sleep(0.2)
    finally:
        for sock in slow:
            sock.close()


def test_nginx_passes_a_body_over_the_limit_refusal_through_unread(nginx):
    port, key = nginx
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"POST /api/v1/conversations HTTP/1.1\r\nHost: x\r\n"
                     b"Authorization: Bearer " + key.encode() + b"\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 314572800\r\n\r\n{")
        answer = b""
        started = time.monotonic()
        while not answer.endswith(b"}") and time.monotonic() - started < 10:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413") and b"application/json" in head, answer[:300]
    assert json.loads(body)["error"]["code"] == "bad_request"


def test_nginx_refuses_metrics_that_gunicorn_serves_privately(gunicorn, nginx):
    server, _ = gunicorn
    port, _ = nginx
    status, _, text = send_json(server.connect(), "GET", "/metrics", {})
    assert status == 200 and "vorel_http_requests_total" in text
    for path in ("/metrics", "//metrics", "/%6Detrics", "/metrics?format=text"):
        status, headers, body = send_json(connect(port, 10), "GET", path, {})
        assert status == 404 and headers["Content-Type"] == "application/json", (path, body)
        assert body["error"]["code"] == "not_found"


def test_the_console_signs_in_and_posts_forms_over_https_behind_nginx(nginx_https):
    import requests
    base_url, certificate = nginx_https
    browser = requests.Session()
    # Not from the environment: REQUESTS_CA_BUNDLE would override the session's verify.
    browser.trust_env = False
    browser.verify = certificate
    login = browser.get(f"{base_url}{KEYS_PAGE}")
    assert login.url == f"{base_url}/login?next=%2Fsettings%2Fintegrations%2Fapi-keys"
    assert login.status_code == 200 and "text/html" in login.headers["Content-Type"]
    sign_in = {"csrf_token": CSRF_FIELD.search(login.text).group(1), "email": OPERATOR,
               "password": PASSWORD}
    # Over HTTPS a form must come from this origin (the scheme and Host nginx passes on).
    for elsewhere in (None, "https://evil.example.com/login", f"http://{login.url[8:]}"):
        refused = browser.post(login.url, data=sign_in, allow_redirects=False,
                               headers={"Referer": elsewhere} if elsewhere else {})
        assert refused.status_code == 400 and "referrer" in refused.text, elsewhere
    signed_in = browser.post(login.url, data=sign_in, headers={"Referer": login.url},
                             allow_redirects=False)
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == KEYS_PAGE
    cookie = signed_in.headers["Set-Cookie"]
    assert "; Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie

    keys_page = browser.get(f"{base_url}{KEYS_PAGE}")
    assert keys_page.status_code == 200 and OPERATOR in keys_page.text
    form = {"name": "n8n", "env": "test", "scopes": ["read"]}
    without_token = browser.post(f"{base_url}{KEYS_PAGE}", data=form,
                                 headers={"Referer": keys_page.url})
    assert without_token.status_code == 400 and "CSRF" in without_token.text
    issued = browser.post(f"{base_url}{KEYS_PAGE}", headers={"Referer": keys_page.url},
                          data={**form, "csrf_token": CSRF_FIELD.search(keys_page.text).group(1)},
                          allow_redirects=False)
    # Post/Redirect/Get: the new key is shown once, on the page the POST redirects to.
    assert issued.status_code == 303 and issued.headers["Location"] == KEYS_PAGE
    shown = browser.get(f"{base_url}{KEYS_PAGE}")
    secret = SECRET.search(shown.text).group(0)
    assert SECRET.search(browser.get(f"{base_url}{KEYS_PAGE}").text) is None
    api = requests.get(f"{base_url}/api/v1/leads", verify=certificate,
                       headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200 and "Set-Cookie" not in api.headers

    style = browser.get(f"{base_url}/console/static/console.css")
    assert style.status_code == 200 and style.headers["Content-Type"].startswith("text/css")
    # Unknown paths: the console's page under its sections, the API's envelope elsewhere.
    html = {"Accept": "text/html"}
    page = browser.get(f"{base_url}/settings/integrations/nope", headers=html)
    assert page.status_code == 404 and "text/html" in page.headers["Content-Type"]
    for path in ("/nope", "/api/v2/leads"):
        answer = browser.get(f"{base_url}{path}", headers=html)
        assert answer.status_code == 404, path
        assert answer.json()["error"]["code"] == "not_found", path
