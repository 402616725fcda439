#!/usr/bin/env bash
# `make demo`: start what exists, on embedded defaults, and say what it did.
# Grows with every capability; today that is the arm-state engine, shown
# through the agent's `plan` command on the built-in demo site.
set -euo pipefail
cd "$(dirname "$0")/.."
agent=target/debug/picket-agent
[ -x "$agent" ] || cargo build --quiet -p picket-agent

echo "== Picket demo =="
echo
echo "1. What a unit will enforce this week at the demo site (Copenhagen),"
echo "   computed by the same engine the unit and the hub run:"
echo
"$agent" plan --days 7
echo
echo "2. The week Copenhagen moves to summer time, with a keyholder's"
echo "   temporary disarm on Tuesday evening (note CET -> CEST):"
echo
"$agent" plan --from 2026-03-23T00:00:00Z --days 8
echo
echo "Started: nothing long-running yet (the hub, units and cameras arrive with"
echo "their issues). Try: $agent plan --help"
