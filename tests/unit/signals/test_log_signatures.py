"""The bundled log-signature library: each family on lines as real software prints them,
near misses that must not match, the lines that fit two families, and the file's validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from firstline.signals.log_library import (
    FAMILIES,
    LogSignatureError,
    Match,
    default_library,
    load_library,
)

Positive = tuple[str, dict[str, str]]


def _matches(line: str) -> list[Match]:
    library = default_library()
    found = library.match(line)
    # The word prefilter must never change the answer, only its cost.
    assert found == library.match(line, prefilter=False), line
    return found


def _families(line: str) -> set[str]:
    return {m.signature.family for m in _matches(line)}


def _check(family: str, positives: list[Positive], negatives: list[str]) -> None:
    assert len(positives) >= 3
    for line, groups in positives:
        hit = next((m for m in _matches(line) if m.signature.family == family), None)
        assert hit is not None, f"{family} missed: {line}"
        assert groups.items() <= hit.groups.items(), (line, hit.groups)
    for line in negatives:
        assert family not in _families(line), f"{family} matched a near miss: {line}"


def test_cert_expired() -> None:
    _check(
        "cert_expired",
        [
            (
                'E0312 14:02:11.123456       1 reflector.go:147] Failed to watch *v1.Pod: Get "https://10.96.0.1:443/api/v1/pods": tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time 2026-03-12T14:02:11Z is after 2026-03-10T00:00:00Z',
                {"not_after": "2026-03-10T00:00:00Z"},
            ),
            (
                "Caused by: java.security.cert.CertificateExpiredException: NotAfter: Tue Mar 10 00:00:00 UTC 2026",
                {"not_after": "Tue Mar 10 00:00:00 UTC 2026"},
            ),
            (
                "requests.exceptions.SSLError: HTTPSConnectionPool(host='api.example.com', port=443): Max retries exceeded with url: /v1 (Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired (_ssl.c:1006)')))",
                {},
            ),
            ('{"level":"error","msg":"fetch failed","code":"CERT_HAS_EXPIRED"}', {}),
            ("curl: (60) SSL certificate problem: certificate has expired", {}),
        ],
        [
            "certificate renewed; valid until 2026-06-01T00:00:00Z",
            'cert-manager: Certificate "api-tls" is up to date and has not expired',
            "checking certificate expiry: 42 days left",
        ],
    )


def test_cert_untrusted() -> None:
    _check(
        "cert_untrusted",
        [
            (
                'x509: certificate signed by unknown authority (possibly because of "crypto/rsa: verification error" while trying to verify candidate authority certificate "kubernetes")',
                {"cert_subject": "kubernetes"},
            ),
            (
                "javax.net.ssl.SSLHandshakeException: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target",
                {},
            ),
            ("Error: self-signed certificate in certificate chain", {}),
            (
                "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate (_ssl.c:1006)",
                {},
            ),
            (
                "x509: certificate is valid for *.prod.example.com, prod.example.com, not api.staging.example.com",
                {
                    "host": "api.staging.example.com",
                    "cert_subject": "*.prod.example.com, prod.example.com",
                },
            ),
            (
                "Error [ERR_TLS_CERT_ALTNAME_INVALID]: Hostname/IP does not match certificate's altnames: Host: api.example.com. is not in the cert's altnames: DNS:*.other.com",
                {"host": "api.example.com"},
            ),
        ],
        [
            "loaded 142 certificates from /etc/ssl/certs/ca-certificates.crt",
            "verifying certificate chain for api.example.com: ok",
            "self-test passed in 4ms",
        ],
    )


def test_tls_handshake_failed() -> None:
    _check(
        "tls_handshake_failed",
        [
            (
                "http: TLS handshake error from 10.244.3.17:51234: remote error: tls: bad certificate",
                {"peer": "10.244.3.17:51234", "reason": "remote error: tls: bad certificate"},
            ),
            ("javax.net.ssl.SSLHandshakeException: Received fatal alert: handshake_failure", {}),
            (
                "2026/03/12 14:02:11 [crit] 31#31: *1234 SSL_do_handshake() failed (SSL: error:0A00006C:SSL routines::bad key share) while SSL handshaking, client: 10.0.0.8, server: 0.0.0.0:443",
                {"reason": "SSL: error:0A00006C:SSL routines::bad key share"},
            ),
            ("ssl.SSLError: [SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)", {}),
            (
                "[2026-03-12 14:02:11.123][27][debug][connection] [source/common/tls/ssl_socket.cc:240] [C1234] TLS error: 268435703:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER",
                {},
            ),
        ],
        [
            "TLS handshake completed in 12ms (TLSv1.3, TLS_AES_128_GCM_SHA256)",
            'level=info msg="serving TLS" addr=:8443',
            "ssl certificate verify ok for api.example.com",
        ],
    )


def test_dns_failure() -> None:
    _check(
        "dns_failure",
        [
            (
                "dial tcp: lookup orders-db.shop.svc.cluster.local on 10.96.0.10:53: no such host",
                {"host": "orders-db.shop.svc.cluster.local", "resolver": "10.96.0.10:53"},
            ),
            (
                "lookup api.example.com on 10.96.0.10:53: server misbehaving",
                {"host": "api.example.com"},
            ),
            ("Caused by: java.net.UnknownHostException: db.orders.svc", {"host": "db.orders.svc"}),
            (
                "org.springframework.dao.DataAccessResourceFailureException: could not connect\n\tat org.example.Repo.find(Repo.java:42)\nCaused by: java.net.UnknownHostException: orders-db",
                {"host": "orders-db"},
            ),
            ("Error: getaddrinfo ENOTFOUND api.example.com", {"host": "api.example.com"}),
            ("Error: getaddrinfo EAI_AGAIN redis", {"host": "redis"}),
            ("curl: (6) Could not resolve host: api.example.com", {"host": "api.example.com"}),
            (
                'psycopg2.OperationalError: could not translate host name "orders-db" to address: Name or service not known',
                {"host": "orders-db"},
            ),
            (
                "NameResolutionError(\"<urllib3.connection.HTTPSConnection object at 0x7f3a>: Failed to resolve 'api.example.com' ([Errno -3] Temporary failure in name resolution)\")",
                {"host": "api.example.com"},
            ),
            (
                "[ERROR] plugin/errors: 2 api.example.com. A: read udp 10.244.0.5:39285->8.8.8.8:53: i/o timeout",
                {"plugin": "errors", "host": "api.example.com", "qtype": "A"},
            ),
            (
                "2026/03/12 14:02:11 [error] 7#7: *9 backend.shop.svc could not be resolved (3: Host not found), client: 10.0.0.1",
                {"host": "backend.shop.svc", "reason": "3: Host not found"},
            ),
            (
                '[INFO] 10.244.1.7:48213 - 3141 "A IN api.example.com. udp 44 false 512" SERVFAIL qr,rd 44 0.004s',
                {},
            ),
        ],
        [
            "resolved api.example.com to 93.184.216.34 in 3ms",
            "lookup of user 42 succeeded",
            "[INFO] plugin/reload: Running configuration SHA512 = 9a8b7c",
            '[INFO] 10.244.1.7:48213 - 3141 "A IN api.example.com. udp 44 false 512" NOERROR qr,rd,ra 60 0.001s',
        ],
    )


def test_connection_refused() -> None:
    _check(
        "connection_refused",
        [
            (
                'level=error msg="db ping failed" err="dial tcp 10.0.0.5:5432: connect: connection refused"',
                {"target": "10.0.0.5:5432"},
            ),
            ("Error: connect ECONNREFUSED 127.0.0.1:6379", {"target": "127.0.0.1:6379"}),
            (
                'psycopg2.OperationalError: connection to server at "db" (10.0.0.5), port 5432 failed: Connection refused',
                {"target": "db", "port": "5432"},
            ),
            (
                "io.netty.channel.AbstractChannel$AnnotatedConnectException: Connection refused: orders-db/10.0.0.5:5432",
                {"target": "orders-db/10.0.0.5:5432"},
            ),
            (
                "org.postgresql.util.PSQLException: Connection to localhost:5432 refused. Check that the hostname and port are correct and that the postmaster is accepting TCP/IP connections.",
                {"target": "localhost:5432"},
            ),
            (
                '2026/03/12 14:02:11 [error] 7#7: *1 connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.1, server: shop, request: "GET /api HTTP/1.1", upstream: "http://10.244.2.9:8080/api", host: "shop.example.com"',
                {"target": "http://10.244.2.9:8080/api"},
            ),
            (
                "redis.exceptions.ConnectionError: Error 111 connecting to redis:6379. Connection refused.",
                {"target": "redis:6379"},
            ),
            ('level=info msg="retrying after connection refused" attempt=3', {}),
        ],
        [
            "accepted connection from 10.0.0.5:43122",
            "config ECONNREFUSED_RETRY_MS=500 loaded",
            "request refused by policy: tenant over quota",
        ],
    )


def test_connection_reset() -> None:
    _check(
        "connection_reset",
        [
            (
                "read tcp 10.244.1.7:43122->10.0.0.5:5432: read: connection reset by peer",
                {"target": "10.0.0.5:5432"},
            ),
            ("java.net.SocketException: Connection reset", {}),
            ("Error: read ECONNRESET", {}),
            ("ConnectionResetError: [Errno 104] Connection reset by peer", {}),
            (
                "2026/03/12 14:02:11 [error] 7#7: *3 upstream prematurely closed connection while reading response header from upstream",
                {},
            ),
            ("Error: socket hang up", {}),
        ],
        [
            "password reset email sent to user 42",
            "pipeline finished in 3.2s",
            "resetting metrics after config reload",
        ],
    )


def test_upstream_timeout() -> None:
    _check(
        "upstream_timeout",
        [
            (
                'Post "https://payments.internal/v1/charge": context deadline exceeded',
                {"target": "https://payments.internal/v1/charge"},
            ),
            (
                'level=error err="Get \\"http://inventory:8080/stock\\": context deadline exceeded"',
                {"target": "http://inventory:8080/stock"},
            ),
            (
                'Get "http://inventory:8080/stock": net/http: request canceled (Client.Timeout exceeded while awaiting headers)',
                {},
            ),
            ("rpc error: code = DeadlineExceeded desc = context deadline exceeded", {}),
            (
                "io.grpc.StatusRuntimeException: DEADLINE_EXCEEDED: deadline exceeded after 4.999s",
                {},
            ),
            (
                '2026/03/12 14:02:11 [error] 7#7: *5 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 10.0.0.1, server: shop, request: "GET /api HTTP/1.1", upstream: "http://10.244.2.9:8080/api"',
                {
                    "phase": "reading response header from upstream",
                    "target": "http://10.244.2.9:8080/api",
                },
            ),
            (
                "requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='api.example.com', port=443): Read timed out. (read timeout=10)",
                {"host": "api.example.com", "port": "443"},
            ),
            ("java.net.SocketTimeoutException: Read timed out", {}),
            ("Error: connect ETIMEDOUT 10.0.0.9:443", {"target": "10.0.0.9:443"}),
            ("dial tcp 10.0.0.5:5432: i/o timeout", {"target": "10.0.0.5:5432"}),
            ('{"level":"warn","msg":"acquirer call timed out, retried once","attempt":1}', {}),
            ("ERROR:  canceling statement due to statement timeout", {}),
            (
                '[2026-04-11T12:40:02.311Z] "GET /v1/stock HTTP/1.1" 504 UT 0 24 15000 - "-" "storefront/1.4"',
                {},
            ),
        ],
        [
            "user session timed out after 30m of inactivity",
            "timeout set to 30s",
            "request completed in 120ms (deadline 5s)",
            "read timeout configured: 10s",
        ],
    )


def test_upstream_unavailable() -> None:
    _check(
        "upstream_unavailable",
        [
            (
                'rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp 10.0.0.7:50051: connect: connection refused"',
                {},
            ),
            (
                "io.grpc.StatusRuntimeException: UNAVAILABLE: io exception",
                {"reason": "io exception"},
            ),
            (
                "upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: delayed connect error: 111",
                {"reason": "connection failure"},
            ),
            ("no healthy upstream", {}),
            (
                "io.github.resilience4j.circuitbreaker.CallNotPermittedException: CircuitBreaker 'payments' is OPEN and does not permit further calls",
                {"breaker": "payments"},
            ),
            (
                "CircuitBreaker 'payments' changed state from CLOSED to OPEN",
                {"breaker": "payments"},
            ),
            ("The circuit is now open and is not allowing calls.", {}),
            ('level=warn msg="upstream call failed" status=503 upstream=inventory', {}),
            (
                '[2026-04-11T12:40:02.311Z] "POST /v1/charges HTTP/1.1" 503 UF upstream_reset_before_response_started{connection_failure} 0 91 1 - "-" "checkout/2.3.0"',
                {"response_flags": "UF"},
            ),
            (
                'level=error msg="fraud check failed" err="rpc error: code = Unavailable desc = connection error: desc = \\"transport: Error while dialing: dial tcp 10.96.44.12:9090: connect: connection refused\\""',
                {
                    "reason": 'connection error: desc = "transport: Error while dialing: dial tcp 10.96.44.12:9090: connect: connection refused"'
                },
            ),
        ],
        [
            "circuit breaker 'payments' closed after 10 successful calls",
            "CircuitBreaker 'payments' changed state from OPEN to HALF_OPEN",
            "accept4: resource temporarily unavailable",
            "GET /api 200 503ms",
        ],
    )


def test_pool_exhausted() -> None:
    _check(
        "pool_exhausted",
        [
            (
                "java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, request timed out after 30000ms.",
                {"pool": "HikariPool-1", "timeout_ms": "30000"},
            ),
            (
                "sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout 30.00 (Background on this error at: https://sqlalche.me/e/20/3o7r)",
                {"size": "5", "overflow": "10"},
            ),
            (
                "java.util.NoSuchElementException: Timeout waiting for idle object, borrowMaxWaitDuration=PT10S",
                {},
            ),
            ("redis: connection pool timeout", {}),
            (
                "redis.clients.jedis.exceptions.JedisExhaustedPoolException: Could not get a resource since the pool is exhausted",
                {},
            ),
            ("redis.exceptions.ConnectionError: Too many connections", {}),
            (
                'level=error msg="query failed" err="failed to acquire connection: context deadline exceeded"',
                {},
            ),
            (
                "Timed out fetching a new connection from the connection pool. More info: http://pris.ly/d/connection-pool (Current connection pool timeout: 10, connection limit: 5)",
                {},
            ),
        ],
        [
            "HikariPool-1 - Start completed.",
            "HikariPool-1 - Pool stats (total=10, active=2, idle=8, waiting=0)",
            "I0312 14:02:11.123456       1 leaderelection.go:250] attempting to acquire leader lease kube-system/kube-controller-manager...",
        ],
    )


def test_db_connection_limit() -> None:
    _check(
        "db_connection_limit",
        [
            ("2026-03-12 14:02:11.123 UTC [4321] FATAL:  sorry, too many clients already", {}),
            (
                "FATAL:  remaining connection slots are reserved for non-replication superuser connections",
                {},
            ),
            (
                'psycopg2.OperationalError: connection to server at "db" (10.0.0.5), port 5432 failed: FATAL:  too many connections for role "app"',
                {"name": "app"},
            ),
            ("ERROR 1040 (HY000): Too many connections", {}),
            (
                'java.sql.SQLNonTransientConnectionException: Data source rejected establishment of connection,  message from server: "Too many connections"',
                {},
            ),
            (
                "2026-03-12 14:02:11.123 UTC [1] WARNING C-0x55d: (nodb)/(nouser)@10.0.0.8:51234 pooler error: no more connections allowed (max_client_conn)",
                {"setting": "max_client_conn"},
            ),
            ("ERR max number of clients reached", {}),
            (
                "failed to connect to `user=app database=orders`: server error: FATAL: sorry, too many clients already (SQLSTATE 53300)",
                {},
            ),
        ],
        [
            "max_connections = 200",
            "active connections: 12 of 200",
            "client connected (3 clients now)",
        ],
    )


def test_oom() -> None:
    _check(
        "oom",
        [
            (
                'Exception in thread "main" java.lang.OutOfMemoryError: Java heap space',
                {"reason": "Java heap space"},
            ),
            ("fatal error: runtime: out of memory", {}),
            (
                "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
                {},
            ),
            ("MemoryError", {}),
            (
                "[12345.678901] Memory cgroup out of memory: Killed process 4321 (java) total-vm:8123456kB, anon-rss:4012345kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:9000kB oom_score_adj:999",
                {"pid": "4321", "process": "java"},
            ),
            (
                "[12345.678900] java invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=999",
                {},
            ),
            (
                "Out of memory: Killed process 1234 (postgres) total-vm:2123456kB",
                {"process": "postgres"},
            ),
        ],
        [
            "memory usage 45% of limit",
            "GC pause 12ms, heap 300MB -> 120MB",
            "registered OutOfMemoryErrorHandler for diagnostics",
        ],
    )


def test_missing_config() -> None:
    _check(
        "missing_config",
        [
            (
                "Caused by: java.lang.IllegalArgumentException: Could not resolve placeholder 'DB_URL' in value \"${DB_URL}\"",
                {"variable": "DB_URL"},
            ),
            (
                "Failed to configure a DataSource: 'url' attribute is not specified and no embedded datasource could be configured.",
                {"property": "url"},
            ),
            (
                'level=fatal msg="config" err="env: required environment variable \\"DATABASE_URL\\" is not set"',
                {"variable": "DATABASE_URL"},
            ),
            ("required key DATABASE_URL missing value", {"variable": "DATABASE_URL"}),
            (
                "envconfig.Process: assigning APP_PORT to Port: converting 'abc' to type int. details: strconv.ParseInt: parsing \"abc\": invalid syntax",
                {"variable": "APP_PORT"},
            ),
            (
                "pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings",
                {"settings": "Settings"},
            ),
            (
                "Error: Missing required environment variable: STRIPE_API_KEY",
                {"variable": "STRIPE_API_KEY"},
            ),
            (
                'level=error msg="failed to parse config" err="yaml: line 12: did not find expected key"',
                {},
            ),
            ("yaml.scanner.ScannerError: mapping values are not allowed here", {}),
        ],
        [
            "loaded configuration from /etc/app/config.yaml (12 keys)",
            "environment variable LOG_LEVEL set to debug",
            "1 validation error for CreateOrderRequest",
        ],
    )


def test_missing_file() -> None:
    _check(
        "missing_file",
        [
            (
                "open /etc/app/config.yaml: no such file or directory",
                {"path": "/etc/app/config.yaml"},
            ),
            (
                "Error: ENOENT: no such file or directory, open '/app/config/production.json'",
                {"path": "/app/config/production.json"},
            ),
            (
                "FileNotFoundError: [Errno 2] No such file or directory: '/models/classifier.bin'",
                {"path": "/models/classifier.bin"},
            ),
            (
                "java.io.FileNotFoundException: /config/app.properties (No such file or directory)",
                {"path": "/config/app.properties"},
            ),
            (
                'Error: failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "gunicorn": executable file not found in $PATH: unknown',
                {"path": "gunicorn"},
            ),
            ("exec /usr/local/bin/server: exec format error", {"path": "/usr/local/bin/server"}),
            ("/bin/sh: 1: migrate: not found", {"path": "migrate"}),
        ],
        [
            "user 42 not found",
            '"GET /missing HTTP/1.1" 404 Not Found',
            "file /data/cache.db exists, reusing",
        ],
    )


def test_permission_denied() -> None:
    _check(
        "permission_denied",
        [
            ("open /var/log/app/app.log: permission denied", {"path": "/var/log/app/app.log"}),
            ("Error: EACCES: permission denied, mkdir '/app/uploads'", {"path": "/app/uploads"}),
            (
                "PermissionError: [Errno 13] Permission denied: '/data/output.csv'",
                {"path": "/data/output.csv"},
            ),
            (
                'E0312 14:02:11.123456       1 reflector.go:147] Failed to watch *v1.Pod: pods is forbidden: User "system:serviceaccount:shop:checkout" cannot list resource "pods" in API group "" in the namespace "shop"',
                {"user": "system:serviceaccount:shop:checkout", "verb": "list", "resource": "pods"},
            ),
            (
                "botocore.exceptions.ClientError: An error occurred (AccessDenied) when calling the GetObject operation: Access Denied",
                {"action": "GetObject"},
            ),
            ("chown: changing ownership of '/data': Operation not permitted", {}),
            ("ERROR:  permission denied for table orders", {}),
        ],
        ["permissions checked: ok", "user granted access to /admin", "config EPERM_RETRY=3 loaded"],
    )


def test_disk_full() -> None:
    _check(
        "disk_full",
        [
            (
                "write /var/lib/app/data/segment-000123: no space left on device",
                {"path": "/var/lib/app/data/segment-000123"},
            ),
            (
                'ERROR:  could not extend file "base/16384/16423": No space left on device',
                {"path": "base/16384/16423"},
            ),
            ("java.io.IOException: No space left on device", {}),
            ("Error: ENOSPC: no space left on device, write", {}),
            (
                "flood stage disk watermark [95%] exceeded on [node-1][/usr/share/elasticsearch/data] free: 1.2gb[4.1%], all indices on this node will be marked read-only",
                {"watermark": "95%"},
            ),
            (
                "[ERROR] [MY-000035] [Server] Disk is full writing './binlog.000042' (OS errno 28 - No space left on device). Waiting for someone to free space...",
                {"path": "./binlog.000042"},
            ),
            ("cp: error writing '/home/app/big.tar': Disk quota exceeded", {}),
        ],
        [
            "disk usage 41% of 100Gi",
            "freed 12GiB of space",
            "low disk watermark [85%] exceeded on [node-1], replicas will not be assigned",
        ],
    )


def test_read_only_fs() -> None:
    _check(
        "read_only_fs",
        [
            ("open /app/cache/index.db: read-only file system", {"path": "/app/cache/index.db"}),
            (
                "OSError: [Errno 30] Read-only file system: '/app/static/cache'",
                {"path": "/app/static/cache"},
            ),
            (
                "Error: EROFS: read-only file system, open '/app/logs/app.log'",
                {"path": "/app/logs/app.log"},
            ),
            ("java.nio.file.FileSystemException: /tmp/upload.part: Read-only file system", {}),
        ],
        [
            "mounted /config as read-only, as intended",
            "ERROR:  cannot execute INSERT in a read-only transaction",
            "reading file system stats",
        ],
    )


def test_crash() -> None:
    _check(
        "crash",
        [
            (
                "panic: runtime error: invalid memory address or nil pointer dereference",
                {"reason": "runtime error: invalid memory address or nil pointer dereference"},
            ),
            ("goroutine 1 [running]:", {}),
            # A stack trace joined into one entry by the log shipper.
            (
                "starting worker\npanic: assignment to entry in nil map\n\ngoroutine 7 [running]:",
                {"reason": "assignment to entry in nil map"},
            ),
            ("Traceback (most recent call last):", {}),
            (
                'Exception in thread "main" java.lang.IllegalStateException: missing bean',
                {"thread": "main", "exception": "java.lang.IllegalStateException"},
            ),
            (
                "[ 5432.123456] server[4321]: segfault at 0 ip 00007f3a2b1c4d5e sp 00007ffd1234abcd error 4 in libc.so.6[7f3a2b100000+195000]",
                {"process": "libc.so.6"},
            ),
            ("[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a1b2c]", {}),
            ("#  SIGSEGV (0xb) at pc=0x00007f1c2d3e4f50, pid=1, tid=27", {}),
            ("Fatal Python error: Segmentation fault", {"reason": "Segmentation fault"}),
            ("thread 'main' panicked at src/main.rs:42:10:", {"thread": "main"}),
            (
                'E0312 14:02:11.123456       1 runtime.go:79] Observed a panic: "invalid memory address or nil pointer dereference" (runtime error: invalid memory address or nil pointer dereference)',
                {},
            ),
            ("fatal error: all goroutines are asleep - deadlock!", {}),
        ],
        [
            "don't panic: retry scheduled",
            "thread pool size set to 8",
            "installed SIGSEGV handler for crash reports",
            "Exception handler registered for /api",
        ],
    )
    assert "crash" in default_library().weak


def test_db_replication() -> None:
    _check(
        "db_replication",
        [
            (
                "2026-03-12 14:02:11.123 UTC [87] FATAL:  could not receive data from WAL stream: ERROR:  requested WAL segment 000000010000000A000000F3 has already been removed",
                {"segment": "000000010000000A000000F3"},
            ),
            ('ERROR:  replication slot "standby_1" does not exist', {"slot": "standby_1"}),
            ("2026-03-12 14:02:11,123 INFO: Member postgres-1 exceeds maximum replication lag", {}),
            (
                "2026-03-12T14:02:11.123456Z 12 [ERROR] [MY-013114] [Repl] Replica I/O for channel '': Got fatal error 1236 from source when reading data from binary log: 'Could not find first log file name in binary log index file', Error_code: MY-013114",
                {},
            ),
            ("ERROR:  canceling statement due to conflict with recovery", {}),
        ],
        [
            "replication lag 0 bytes",
            "started streaming WAL from primary at 0/3000000 on timeline 1",
            'replication slot "standby_1" created',
        ],
    )


def test_db_deadlock() -> None:
    _check(
        "db_deadlock",
        [
            ("2026-03-12 14:02:11.123 UTC [4321] ERROR:  deadlock detected", {}),
            (
                'level=error msg="update failed" err="ERROR: process 4321 was blocked (SQLSTATE 40P01)"',
                {},
            ),
            (
                "ERROR 1213 (40001): Deadlock found when trying to get lock; try restarting transaction",
                {},
            ),
            (
                "Transaction (Process ID 57) was deadlocked on lock resources with another process and has been chosen as the deadlock victim. Rerun the transaction.",
                {},
            ),
            (
                "org.springframework.dao.DeadlockLoserDataAccessException: PreparedStatementCallback; SQL [update orders set status = ?]",
                {},
            ),
        ],
        [
            "fatal error: all goroutines are asleep - deadlock!",
            "deadlock_timeout = 1s",
            "no deadlocks detected in the last hour",
        ],
    )


def test_rate_limited() -> None:
    _check(
        "rate_limited",
        [
            ('level=warn msg="github api" status=429 retry_after=60', {}),
            (
                '10.0.0.1 - - [12/Mar/2026:14:02:11 +0000] "POST /v1/charge HTTP/1.1" 429 57 "-" "python-requests/2.31"',
                {},
            ),
            (
                "requests.exceptions.HTTPError: 429 Client Error: Too Many Requests for url: https://api.example.com/v1/items",
                {},
            ),
            (
                "botocore.exceptions.ClientError: An error occurred (ThrottlingException) when calling the PutMetricData operation (reached max retries: 4): Rate exceeded",
                {},
            ),
            (
                "I0312 14:02:11.123456       1 request.go:697] Waited for 1.19s due to client-side throttling, not priority and fairness, request: GET:https://10.96.0.1:443/api/v1/pods",
                {},
            ),
            ("API rate limit exceeded for installation ID 12345.", {}),
        ],
        [
            "rate limiter configured: 100 requests/s burst 20",
            "processed 429 records",
            "GET /healthz 200",
        ],
    )


HEALTHY = [
    "GET /healthz 200",
    '10.0.0.1 - - [12/Mar/2026:14:02:11 +0000] "GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.29"',
    'level=info msg="request completed" method=GET path=/readyz status=200 duration=1.2ms',
    '{"level":"info","msg":"no error","status":200}',
    "I0312 14:02:11.123456       1 leaderelection.go:250] attempting to acquire leader lease kube-system/kube-controller-manager...",
    "2026-03-12 14:02:11.123  INFO 1 --- [main] o.s.b.w.embedded.tomcat.TomcatWebServer  : Tomcat started on port(s): 8080 (http)",
    '[INFO] 10.244.1.7:48213 - 3141 "A IN api.example.com. udp 44 false 512" NOERROR qr,rd,ra 60 0.001s',
    "2026-03-12 14:02:11.123 UTC [1] LOG:  database system is ready to accept connections",
]


@pytest.mark.parametrize("line", HEALTHY)
def test_healthy_lines_match_nothing(line: str) -> None:
    assert _families(line) == set()


@pytest.mark.parametrize(
    ("line", "families"),
    [
        # The resolver's address timed out, not the upstream's.
        (
            "dial tcp: lookup redis on 10.96.0.10:53: read udp 10.244.1.7:51234->10.96.0.10:53: i/o timeout",
            {"dns_failure"},
        ),
        (
            "dial tcp: lookup redis on 10.96.0.10:53: dial udp 10.96.0.10:53: connect: connection refused",
            {"dns_failure"},
        ),
        # The verification failed for a named reason; the generic handshake reading goes.
        (
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired (_ssl.c:1006)",
            {"cert_expired"},
        ),
        (
            "javax.net.ssl.SSLHandshakeException: PKIX path building failed: unable to find valid certification path to requested target",
            {"cert_untrusted"},
        ),
        # The pool's own wait timed out, not a call.
        (
            "HikariPool-1 - Connection is not available, request timed out after 30000ms.",
            {"pool_exhausted"},
        ),
        (
            "sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout 30.00",
            {"pool_exhausted"},
        ),
        # Same words, two meanings: redis-py's client pool versus MySQL's server limit.
        ("redis.exceptions.ConnectionError: Too many connections", {"pool_exhausted"}),
        ("ERROR 1040 (HY000): Too many connections", {"db_connection_limit"}),
        ("connection refused because too many open connections: 819", {"db_connection_limit"}),
        # The crash is the memory's doing.
        ('Exception in thread "main" java.lang.OutOfMemoryError: Java heap space', {"oom"}),
        # Both readings are true, so both stay.
        (
            'rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp 10.0.0.7:50051: connect: connection refused"',
            {"upstream_unavailable", "connection_refused"},
        ),
        (
            'level=fatal msg="failed to load config" err="open /etc/app/config.yaml: no such file or directory"',
            {"missing_config", "missing_file"},
        ),
    ],
)
def test_lines_that_fit_two_families(line: str, families: set[str]) -> None:
    assert _families(line) == families


def test_every_known_family_is_in_the_bundled_file() -> None:
    assert default_library().families == FAMILIES
    assert default_library() is default_library()  # compiled once per process


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "signatures.yaml"
    path.write_text(body, encoding="utf-8")
    return path


GOOD_SIGNATURE = """
      - id: refused
        meaning: Connection refused
        keywords: [refused]
        patterns: ['connection refused']
"""


def test_a_small_valid_file_loads_and_matches(tmp_path: Path) -> None:
    body = "families:\n  connection_refused:\n    meaning: m\n    signatures:" + GOOD_SIGNATURE
    library = load_library(_write(tmp_path, body))
    assert [m.signature.id for m in library.match("dial: Connection refused")] == ["refused"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "families:\n  connection_refused:\n    meaning: m\n    signatures:\n      - id: bad\n        meaning: m\n        keywords: [refused]\n        patterns: ['refused (unclosed']\n",
            "does not compile",
        ),
        (
            "families:\n  made_up:\n    meaning: m\n    signatures:" + GOOD_SIGNATURE,
            "unknown families",
        ),
        (
            "families:\n  connection_refused:\n    meaning: m\n    colour: red\n    signatures:"
            + GOOD_SIGNATURE,
            "colour",
        ),
        (
            "families:\n  connection_refused:\n    meaning: m\n    supersedes: [made_up]\n    signatures:"
            + GOOD_SIGNATURE,
            "supersedes unknown",
        ),
        (
            "families:\n  connection_refused:\n    meaning: m\n    signatures:"
            + GOOD_SIGNATURE
            + GOOD_SIGNATURE,
            "used twice",
        ),
        (
            "families:\n  connection_refused:\n    meaning: m\n    signatures:\n      - id: bad\n        meaning: m\n        keywords: [reset]\n        patterns: ['connection refused']\n",
            "none of the keywords",
        ),
        (
            "families:\n  connection_refused:\n    meaning: m\n    signatures:\n      - id: bad\n        meaning: m\n        keywords: [Refused!]\n        patterns: ['refused']\n",
            "lowercase letters and digits",
        ),
        (
            "families:\n  connection_refused:\n    meaning: m\n    signatures:\n      - id: bad\n        meaning: m\n        keywords: [refused]\n        patterns: ['(?P<example>refused)']\n",
            "reserved group",
        ),
        ("families: [\n", "malformed YAML"),
    ],
)
def test_the_loader_rejects_a_broken_file(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(LogSignatureError, match=r"signatures\.yaml") as caught:
        load_library(_write(tmp_path, body))
    assert message in str(caught.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(LogSignatureError, match="does not exist"):
        load_library(tmp_path / "absent.yaml")
