"""moto's server (moto[server] from PyPI), serving one request at a time.

Real DynamoDB applies a conditional write atomically per item. moto's in-memory backend has no
locking, and its stock server is threaded, so two conditional updates of one item can both pass
their condition. The lease tests depend on that atomicity, so this runs moto's own application
behind a single lock. Usage: dynamodb_server.py HOST PORT
"""
import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialized(environ, start_response):
        with lock:
            return list(app(environ, start_response))

    run_simple(host, port, serialized, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
