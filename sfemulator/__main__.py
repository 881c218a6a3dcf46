"""Command line: ``python -m sfemulator serve|seed``."""

from __future__ import annotations

import argparse
import logging
import sys


def main(argv=None) -> int:
    from . import Org
    from .seed import seed_demo
    from .server import EmulatorServer

    parser = argparse.ArgumentParser(prog="python -m sfemulator")
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="serve an org on a loopback port")
    p_serve.add_argument("--port", type=int, default=8765)
    p_serve.add_argument("--host", default="127.0.0.1")
    p_serve.add_argument("--data", default=":memory:", help="SQLite file of the org")
    p_serve.add_argument("--username")
    p_serve.add_argument("--password")
    p_serve.add_argument("--security-token")
    p_serve.add_argument("--api-limit", type=int)
    p_serve.add_argument("--seed", action="store_true", help="load the demo org first")
    p_seed = sub.add_parser("seed", help="load the demo org (idempotent)")
    p_seed.add_argument("--data", required=True)
    p_seed.add_argument("--seed", type=int, default=42)
    p_seed.add_argument("--accounts", type=int, default=300)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.command == "seed":
        org = Org(args.data)
        created = seed_demo(org, seed=args.seed, accounts=args.accounts)
        print("created:", ", ".join(f"{k}={v}" for k, v in created.items()))
        return 0
    org = Org(
        args.data,
        username=args.username,
        password=args.password,
        security_token=args.security_token,
        api_limit=args.api_limit,
    )
    if args.seed:
        seed_demo(org)
    server = EmulatorServer(org, args.host, args.port)
    print(f"sfemulator serving {args.data} at {server.url} (user {org.username})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
