#!/usr/bin/env bash
# `make demo`: start everything that exists, on embedded defaults, and say
# what it started. Today: a hub (its own MQTT front with mTLS, SQLite,
# operator API, the units' HTTPS for clip uploads), three provisioned units
# running picket-agent against the hardware simulator, two simulated RTSP
# cameras, a scripted sensor scenario, and the arming timeline of the demo
# site.
#
#   PICKET_DEMO_SECONDS=N   stop by itself after N seconds (default: run until Ctrl-C)
#   PICKET_DEMO_DIR=DIR     where to put the demo's files (default: target/demo)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/debug
dir=${PICKET_DEMO_DIR:-target/demo}
mqtt_port=${PICKET_DEMO_MQTT_PORT:-18883}
api_port=${PICKET_DEMO_API_PORT:-18480}
smtp_port=${PICKET_DEMO_SMTP_PORT:-18025}
https_port=${PICKET_DEMO_HTTPS_PORT:-18443}
rtsp_port=${PICKET_DEMO_RTSP_PORT:-18554}
site=019abcde00017000800000000000b001

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

echo "== Picket demo =="
echo "1. The arming timeline a unit enforces at the demo site, the week"
echo "   Copenhagen moves to summer time (same engine as the unit and the hub):"
echo
"$bin/picket-agent" plan --from 2026-03-23T00:00:00Z --days 8
echo

rm -rf "$dir" && mkdir -p "$dir"
echo "2. Identities: a CA, the hub's certificate, three unit bundles ($dir)"
"$bin/picket-deploy" ca init --dir "$dir/ca" >/dev/null
"$bin/picket-deploy" hub cert --ca-dir "$dir/ca" --out "$dir/hub" --dns localhost --ip 127.0.0.1 >/dev/null
units=()
for n in 1 2 3; do
  "$bin/picket-deploy" unit provision --ca-dir "$dir/ca" --site "$site" --out "$dir/unit$n" \
    --mqtt "127.0.0.1:$mqtt_port" --https "https://127.0.0.1:$https_port" \
    --hardware sim --sim-socket "$PWD/$dir/sim.sock" >/dev/null
  units+=("$(sed -n 's/^unit = "\(.*\)".*/\1/p' "$dir/unit$n/agent.toml")")
done
printf '   unit %s\n' "${units[@]}"
# Unit 1 records the simulated cameras around its alarms.
cat >> "$dir/unit1/agent.toml" <<TOML

[[camera]]
id = "019abcde00017000800000000000c001"
url = "rtsp://127.0.0.1:$rtsp_port/north"

[[camera]]
id = "019abcde00017000800000000000c002"
url = "rtsp://127.0.0.1:$rtsp_port/gate"
TOML

cat > "$dir/hub/hub.toml" <<TOML
data_dir = "data"
[mqtt]
listen = "127.0.0.1:$mqtt_port"
ca = "ca.pem"
cert = "hub.pem"
key = "hub.key"
[api]
listen = "127.0.0.1:$api_port"
token_file = "operator.token"
public_url = "http://127.0.0.1:$api_port"
# Units upload alarm clips here (HTTPS with their certificates).
[clips]
listen = "127.0.0.1:$https_port"
# A local SMTP sink (aiosmtpd) stands in for the mail server.
[mail]
server = "127.0.0.1"
port = $smtp_port
security = "insecure_plain"
from = "Picket demo <noreply@demo.example>"
TOML

echo "3. Starting a local SMTP sink, the hardware simulator, the hub and three agents"
/usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$smtp_port" -c aiosmtpd.handlers.Mailbox "$dir/mail" >"$dir/smtp.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$smtp_port") 2>/dev/null && break; sleep 0.1; done
"$bin/picket-sim" sensors --socket "$dir/sim.sock" >"$dir/sim.log" 2>&1 &
pids+=($!)
# Two simulated RTSP cameras with a stamped clock and frame counter.
"$bin/picket-sim" camera --listen "127.0.0.1:$rtsp_port" --camera north --camera gate:1280x720@25,bitrate=2000,codec=h265 \
  --control "$dir/cams.sock" >"$dir/cams.log" 2>&1 &
pids+=($!)
"$bin/picket-hub" serve --config "$dir/hub/hub.toml" >"$dir/hub.log" 2>&1 &
pids+=($!)
api="http://127.0.0.1:$api_port"
for _ in $(seq 50); do curl -sf "$api/health" >/dev/null && break; sleep 0.1; done
token=$(cat "$dir/hub/operator.token")
auth=(-H "Authorization: Bearer $token" -H "Content-Type: application/json")

# The demo site: armed 00:00-24:00 today so the scenario raises alarms.
week='{"monday":["00:00-24:00"],"tuesday":["00:00-24:00"],"wednesday":["00:00-24:00"],"thursday":["00:00-24:00"],"friday":["00:00-24:00"],"saturday":["00:00-24:00"],"sunday":["00:00-24:00"]}'
# People: the operator organisation and a customer that owns the demo site
# (made with the operator's bootstrap token, as on a new hub).
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
operator=$(curl -sf "${auth[@]}" -X POST "$api/api/v1/organisations" -d '{"kind":"operator","name":"Picket Security"}' | json_field id)
customer=$(curl -sf "${auth[@]}" -X POST "$api/api/v1/organisations" -d '{"kind":"customer","name":"Demo Harbour Ltd"}' | json_field id)
curl -sf "${auth[@]}" -X PUT "$api/api/v1/sites/$site" \
  -d "{\"name\":\"Demo yard\",\"org\":\"$customer\",\"schedule\":{\"time_zone\":\"Europe/Copenhagen\",\"week\":$week}}" >/dev/null
owner_mail=owner@demo.example
owner_password='demo owner passphrase'
curl -sf "${auth[@]}" -X POST "$api/api/v1/organisations/$customer/users" \
  -d "{\"email\":\"$owner_mail\",\"name\":\"Anna Holm\",\"role\":\"owner\"}" >/dev/null
# The invitation arrives by e-mail; take the link from it as Anna would.
invite_token=""
for _ in $(seq 50); do
  invite_token=$(cat "$dir"/mail/new/* 2>/dev/null | tr -d '\r' | sed -e ':a;/=$/{N;s/=\n//;ba}' | grep -o 'pl_[0-9a-f]\{64\}' | head -1 || true)
  [ -n "$invite_token" ] && break; sleep 0.1
done
curl -sf -X POST "$api/api/v1/invitations/accept" -H "Content-Type: application/json" \
  -d "{\"token\":\"$invite_token\",\"password\":\"$owner_password\"}" >/dev/null
jar="$dir/owner.cookies"
curl -sf -c "$jar" -X POST "$api/api/v1/session" -H "Content-Type: application/json" \
  -d "{\"email\":\"$owner_mail\",\"password\":\"$owner_password\"}" >/dev/null
for u in "${units[@]}"; do
  curl -sf "${auth[@]}" -X PUT "$api/api/v1/units/$u/site" -d "{\"site\":\"$site\"}" >/dev/null
done
# The owner's clip recording for the site: 5 s before an alarm, 10 s after.
curl -sf -b "$jar" -X PUT "$api/api/v1/sites/$site/clip-settings" -H "Content-Type: application/json" \
  -d '{"pre_roll_s":5,"post_roll_s":10,"max_clip_s":60}' >/dev/null
for n in 1 2 3; do
  "$bin/picket-agent" run --config "$dir/unit$n/agent.toml" >"$dir/unit$n.log" 2>&1 &
  pids+=($!)
done

echo "4. Playing a sensor scenario on unit 1 (PIR, door, power) and a disarm of the site"
sed "s/^unit = \".*\"/unit = \"${units[0]}\"/" hw-sim/scenarios/demo.toml >"$dir/scenario.toml"
sleep 2
"$bin/picket-sim" scenario --socket "$dir/sim.sock" --file "$dir/scenario.toml" >"$dir/scenario.log" 2>&1 &
pids+=($!)
until=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
sleep 4
# The owner disarms for an hour (the hub names who did it from the session).
curl -sf -b "$jar" -X PUT "$api/api/v1/sites/$site/disarm" -H "Content-Type: application/json" -d "{\"until\":\"$until\"}" >/dev/null
# The owner names whom the centre calls, and who gets the reports.
curl -sf -b "$jar" -X PUT "$api/api/v1/sites/$site/contacts" -H "Content-Type: application/json" \
  -d '[{"name":"Anna Holm","phone":"+45 20 30 40 50","email":"owner@demo.example"},{"name":"Night guard","phone":"+45 70 80 90 00"}]' >/dev/null
curl -sf -b "$jar" -X PUT "$api/api/v1/sites/$site/report-recipients" -H "Content-Type: application/json" \
  -d '[{"email":"owner@demo.example","instant":true,"daily":true},{"email":"security@demo.example","daily":true}]' >/dev/null
# The owner picks the site's security level from the operator's profiles.
curl -sf -b "$jar" -X PUT "$api/api/v1/sites/$site/level" -H "Content-Type: application/json" \
  -d '{"profile":"silent"}' >/dev/null
# A centre operator (invited with the operator's token, which gets the
# link in the answer) works the alarm queue.
ole_mail=ole@centre.example
ole_password='demo centre passphrase'
ole_link=$(curl -sf "${auth[@]}" -X POST "$api/api/v1/organisations/$operator/users" \
  -d "{\"email\":\"$ole_mail\",\"name\":\"Ole Berg\",\"role\":\"centre_operator\"}" | json_field invitation_link)
curl -sf -X POST "$api/api/v1/invitations/accept" -H "Content-Type: application/json" \
  -d "{\"token\":\"${ole_link##*#}\",\"password\":\"$ole_password\"}" >/dev/null
ole_jar="$dir/ole.cookies"
curl -sf -c "$ole_jar" -X POST "$api/api/v1/session" -H "Content-Type: application/json" \
  -d "{\"email\":\"$ole_mail\",\"password\":\"$ole_password\"}" >/dev/null
sleep 3

echo
echo "Simulated cameras (picket-sim camera; each frame stamped with its instant and number):"
for cam in north gate; do
  probe=$(timeout 20 ffprobe -v error -rtsp_transport tcp -show_entries stream=codec_name,width,height,avg_frame_rate \
    -of csv=p=0 "rtsp://127.0.0.1:$rtsp_port/$cam" 2>/dev/null || echo "not answering (see $dir/cams.log)")
  echo "  rtsp://127.0.0.1:$rtsp_port/$cam  $probe"
done
echo
echo "Started:"
echo "  hub         MQTT (mTLS) 127.0.0.1:$mqtt_port, API $api   log $dir/hub.log"
echo "  simulator   $dir/sim.sock                                log $dir/sim.log"
echo "  cameras     rtsp://127.0.0.1:$rtsp_port/{north,gate}           log $dir/cams.log"
echo "  clip upload https://127.0.0.1:$https_port (units' certificates)"
echo "  3 agents    $dir/unit{1,2,3}/                           logs $dir/unit{1,2,3}.log"
echo
echo "Watch them:"
echo "  curl -s -H \"Authorization: Bearer \$(cat $dir/hub/operator.token)\" $api/api/v1/units"
echo "  curl -s -H \"Authorization: Bearer \$(cat $dir/hub/operator.token)\" $api/api/v1/units/${units[0]}/events"
echo "  $bin/picket-sim trigger --socket $dir/sim.sock --unit ${units[1]} --sensor pir"
echo
echo "People (the access model): the customer's owner, invited by e-mail ($dir/mail/new), signed in with a session cookie:"
curl -sf -b "$jar" "$api/api/v1/session" | python3 -c '
import json, sys
me = json.load(sys.stdin)
print("  %s  %s  sites: %s" % (me["email"], me["role_name"], me["scope"]))
print("  may: " + ", ".join(me["permissions"]))'
echo "  as the owner:  curl -s -c /tmp/jar -H 'Content-Type: application/json' -d '{\"email\":\"$owner_mail\",\"password\":\"$owner_password\"}' $api/api/v1/session"
echo "                 curl -s -b /tmp/jar $api/api/v1/units"
echo "  the roles:     curl -s -b /tmp/jar $api/api/v1/roles   (API document: $api/api/v1/openapi.json)"
echo
echo "Site contacts (call order) and report recipients, set by the owner:"
curl -sf -b "$jar" "$api/api/v1/sites/$site/contacts" | python3 -c '
import json, sys
for c in json.load(sys.stdin):
    print("  %d. %-12s %s" % (c["position"], c["name"], c["phone"]))'
curl -sf -b "$jar" "$api/api/v1/sites/$site/report-recipients" | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    kinds = [k for k in ("instant", "daily") if r[k]]
    print("  reports to %-24s %s" % (r["email"], " + ".join(kinds)))'
echo "Security levels the operator offers (* the site's, chosen by the owner):"
chosen=$(curl -sf -b "$jar" "$api/api/v1/sites/$site" | json_field level_profile)
curl -sf -b "$jar" "$api/api/v1/levels" | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    l = p["level"]
    warn = "+".join(k for k in ("siren", "strobe", "voice") if l["warnings"][k]) or "no warnings"
    print("  %s %-9s %-20s %-13s centre priority %d, %s" % ("*" if p["key"] == sys.argv[1] else " ",
          p["key"], l["name"], l["arming"], l["centre_priority"], warn))' "$chosen"
echo
queue_show() {
  curl -sf -b "$ole_jar" "$api/api/v1/centre/queue" | python3 -c '
import json, sys
items = json.load(sys.stdin)
print("  %d open item(s)" % len(items))
for i in items[:5]:
    print("  %s  %-7s priority %s  %-12s%s" % (i["id"], i["kind"], i["priority"], i["status"]["state"], "  ESCALATED" if i["escalated"] else ""))'
}
echo "Monitoring centre: the alarm queue as Ole (centre operator) sees it:"
queue_show
first=$(curl -sf -b "$ole_jar" "$api/api/v1/centre/queue" | python3 -c 'import json,sys; q=json.load(sys.stdin); print(q[0]["id"] if q else "")')
if [ -n "$first" ]; then
  for step in claim acknowledge; do
    curl -sf -b "$ole_jar" -X POST "$api/api/v1/centre/queue/$first/$step" >/dev/null
  done
  curl -sf -b "$ole_jar" -X POST "$api/api/v1/centre/queue/$first/handle" -H "Content-Type: application/json" \
    -d '{"outcome":"false_alarm","notes":"Demo: checked the cameras, nobody on site."}' >/dev/null
  echo "  Ole claimed, acknowledged and handled $first (false alarm); now:"
  queue_show
fi
echo
echo "Alarms as the owner sees them (with the centre's incident report, as the customer shares reports):"
curl -sf -b "$jar" "$api/api/v1/alarms?limit=5" | python3 -c '
import json, sys
for a in json.load(sys.stdin):
    c = a.get("centre") or {}
    r = a.get("incident_report")
    print("  %s  %-6s %-10s centre: %-12s%s" % (a["at"][11:19], a["sensor"], a["state"], c.get("state", "not queued"),
          ("  report: %s, \"%s\"" % (r["outcome_label"], r["notes"])) if r else ""))'
echo "Event video (unit 1 records both cameras, north H.264 and gate H.265; the owner set 5 s before and 10 s after an alarm; later alarms extend a clip):"
for _ in $(seq 60); do
  shown=$(curl -sf -b "$jar" "$api/api/v1/alarms?limit=10" | python3 -c '
import json, sys
for a in json.load(sys.stdin):
    print(a["id"])' | while read -r id; do
      curl -sf -b "$jar" "$api/api/v1/alarms/$id" | python3 -c '
import json, sys
a = json.load(sys.stdin)
clips = a.get("clips") or []
if sum(1 for c in clips if c["kind"] == "clip") >= 2:
    print("  alarm %s (%s at %s):" % (a["id"], a["sensor"], a["at"][11:19]))
    for c in clips:
        print("    %-9s camera ..%s  %8d bytes  %s" % (c["kind"], c["camera"][-4:], c["size"], c["url"]))'
    done)
  [ -n "$shown" ] && break; sleep 0.5
done
echo "${shown:-  (no clips yet: see $dir/unit1.log)}"
echo "Camera loss: the gate camera's stream is cut; unit 1 reports it (event and health) and reconnects when it is back:"
"$bin/picket-sim" camera-control --socket "$dir/cams.sock" --drop gate >/dev/null
for _ in $(seq 40); do
  lost=$(curl -sf -b "$ole_jar" "$api/api/v1/fleet" | python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"]["camera_lost"])')
  [ "$lost" = 1 ] && break; sleep 0.25
done
curl -sf "${auth[@]}" "$api/api/v1/units/${units[0]}/events" | python3 -c '
import json, sys
for e in json.load(sys.stdin):
    if e["kind"] in ("camera_lost", "camera_restored"):
        print("  %s  %s  %s" % (e["at"][11:19], e["kind"], e["detail"]))
        break'
echo "Relocation: the owner moves unit 3, asks for activation at its new place; Ole checks and activates it:"
u3=${units[2]}
curl -sf -b "$jar" -X POST "$api/api/v1/units/$u3/relocation" -H "Content-Type: application/json" \
  -d '{"to":"relocating"}' >/dev/null
curl -sf -b "$jar" -X POST "$api/api/v1/units/$u3/relocation" -H "Content-Type: application/json" \
  -d '{"to":"activation_requested","position":{"latitude":55.6761,"longitude":12.5683}}' >/dev/null
act=$(curl -sf -b "$ole_jar" "$api/api/v1/centre/queue" | python3 -c '
import json, sys
print(next((i["id"] for i in json.load(sys.stdin) if i["kind"] == "activation"), ""))')
if [ -n "$act" ]; then
  echo "  the centre's queue shows activation request $act"
  curl -sf -b "$ole_jar" -X POST "$api/api/v1/centre/queue/$act/claim" >/dev/null
  curl -sf -b "$ole_jar" -X POST "$api/api/v1/centre/queue/$act/handle" -H "Content-Type: application/json" \
    -d '{"outcome":"activated"}' >/dev/null
fi
curl -sf -b "$jar" "$api/api/v1/units/$u3/relocation" | python3 -c '
import json, sys
r = json.load(sys.stdin)
p = r["position"] or {}
d = r["last_request"] or {}
print("  unit 3: %s at %s, %s (the centre: %s)" % (r["state"], p.get("latitude"), p.get("longitude"), d.get("decision")))'
echo "Fleet health as the centre sees it:"
curl -sf -b "$ole_jar" "$api/api/v1/fleet" | python3 -c '
import json, sys
s = json.load(sys.stdin)["summary"]
print("  %d units: %d online, %d offline, %d tamper, %d camera lost, %d disk low, %d config pending, %d relocating" % (
    s["units"], s["online"], s["offline"], s["tamper"], s["camera_lost"], s["disk_low"], s["config_pending"], s["relocating"]))'
echo "  (the gate camera is served again; unit 1 reports camera_restored within seconds)"
"$bin/picket-sim" camera-control --socket "$dir/cams.sock" --restore gate >/dev/null
echo "Overview: units needing attention:"
curl -sf -b "$jar" "$api/api/v1/overview" | python3 -c '
import json, sys
o = json.load(sys.stdin)
print("  %d unit(s) on the map, %d need attention" % (len(o["units"]), len(o["attention"])))
for a in o["attention"]:
    print("  %s  %s" % (a["unit"], ", ".join(a["reasons"])))'
echo
echo "Audit log of the customer (newest first):"
curl -sf -b "$jar" "$api/api/v1/organisations/$customer/audit?limit=6" | python3 -c '
import json, sys
for e in json.load(sys.stdin):
    print("  #%-3s %-26s by %s" % (e["seq"], e["action"], e["actor_label"]))'
echo
echo "Units now:"
curl -sf "${auth[@]}" "$api/api/v1/units" | python3 -c '
import json, sys
for u in json.load(sys.stdin):
    s = u.get("state") or {}
    print("  %s  %-7s  %-8s  %s%s" % (u["id"], "online" if u["online"] else "offline",
          s.get("state", "?"), s.get("reason", ""), "  (config pending)" if u["pending"] else ""))'
echo
echo "Events of unit 1 (newest first):"
curl -sf "${auth[@]}" "$api/api/v1/units/${units[0]}/events" | python3 -c '
import json, sys
for e in json.load(sys.stdin):
    print("  #%-3s %-20s %s" % (e["seq"], e["kind"], e["at"]))'
echo
if [ -n "${PICKET_DEMO_SECONDS:-}" ]; then
  sleep "$PICKET_DEMO_SECONDS"
else
  echo "Running; press Ctrl-C to stop."
  wait
fi
