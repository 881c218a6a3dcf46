#!/usr/bin/env bash
# `make demo`: migrate, load the demo org and data, then run the web server and a django-q2
# cluster together until Ctrl-C. Safe to run again: every step is idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mkdir -p var
$PY scripts/demo_env.py .env  # the demo's settings (DEBUG off) for every manage.py run here
$PY manage.py collectstatic --noinput -v 0  # whitenoise serves them: DEBUG is off
$PY manage.py migrate --noinput
$PY manage.py demo_setup
$PY manage.py qcluster &
cluster=$!
trap 'kill $cluster 2>/dev/null; wait $cluster 2>/dev/null' EXIT INT TERM
echo
echo "crmbridge is running at http://127.0.0.1:8000/ (Ctrl-C stops it)"
$PY manage.py runserver 127.0.0.1:8000 --noreload
