"""Run Radicale with a configuration given as JSON: `python -m tests.servers.radicale_serve FILE`.

Radicale's own command line and config files refuse options starting with "_", and
`[storage] _filesystem_fsync` is the one that matters for tests: with fsync each PUT waits for
the disk (about 20 ms here), which a throw-away test server does not need. So the options are
applied as Radicale's own test suite does (`Configuration.update(..., privileged=True)`).
"""

import json
import signal
import socket
import sys

from radicale import config, log, server


def main(path):
    with open(path) as options:
        values = json.load(options)
    log.setup()
    configuration = config.load()
    configuration.update(values, path, privileged=True)
    log.set_level(configuration.get("logging", "level"), False)
    shutdown, shutdown_out = socket.socketpair()

    def stop(signal_number, frame):
        shutdown.close()

    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, stop)
    server.serve(configuration, shutdown_out)


if __name__ == "__main__":
    main(sys.argv[1])
