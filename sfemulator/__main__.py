"""Command line: ``python -m sfemulator serve|seed|connected-app``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from . import Org
from .auth import DEFAULT_SCOPES
from .seed import seed_demo
from .server import EmulatorServer


def _parser() -> argparse.ArgumentParser:
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
    p_serve.add_argument("--session-seconds", type=int, help="lifetime of an access token")
    p_serve.add_argument("--seed", action="store_true", help="load the demo org first")
    p_seed = sub.add_parser("seed", help="load the demo org (idempotent)")
    p_seed.add_argument("--data", required=True)
    p_seed.add_argument("--seed", type=int, default=42)
    p_seed.add_argument("--accounts", type=int, default=300)
    p_app = sub.add_parser(
        "connected-app", help="create (or replace) a connected app; prints it as JSON"
    )
    p_app.add_argument("--data", required=True, help="SQLite file of the org")
    p_app.add_argument("--name", required=True)
    p_app.add_argument(
        "--callback-url", action="append", default=[], help="repeat for several callback URLs"
    )
    p_app.add_argument("--consumer-key", help="default: generated")
    p_app.add_argument("--consumer-secret", help="default: generated")
    p_app.add_argument("--certificate", help="PEM file (certificate or public key) for JWT bearer")
    p_app.add_argument("--scopes", default=" ".join(DEFAULT_SCOPES), help="space-separated")
    p_app.add_argument("--run-as", help="execution user (username) for client credentials")
    return parser


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.command == "seed":
        org = Org(args.data)
        created = seed_demo(org, seed=args.seed, accounts=args.accounts)
        print("created:", ", ".join(f"{k}={v}" for k, v in created.items()))
        return 0
    if args.command == "connected-app":
        org = Org(args.data)
        try:
            app = org.create_connected_app(
                args.name,
                callback_urls=args.callback_url,
                consumer_key=args.consumer_key,
                consumer_secret=args.consumer_secret,
                certificate=Path(args.certificate).read_text() if args.certificate else None,
                scopes=args.scopes.split(),
                run_as=args.run_as,
            )
        except (OSError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        finally:
            org.close()
        print(json.dumps({**vars(app), "certificate": bool(app.certificate)}, indent=2))
        return 0
    org = Org(
        args.data,
        username=args.username,
        password=args.password,
        security_token=args.security_token,
        api_limit=args.api_limit,
        session_seconds=args.session_seconds,
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
