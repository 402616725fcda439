//! Running sites end to end with the real binaries (`picket-hub serve`,
//! `picket-sim sensors`, `picket-agent run` over mTLS) and people signed in
//! over HTTP:
//!
//! - a schedule day edited and copied to the week arms the unit at that
//!   local instant, by the unit's own clock;
//! - an alarm from a simulated sensor reaches the centre's queue, is
//!   claimed, acknowledged and handled, and the customer reads the incident
//!   report — at once, or only after the centre's review when the customer
//!   asked for that;
//! - a tamper restored within the debounce time raises nothing, a lasting
//!   one raises one queue item;
//! - relocation round trip: paused on the unit (a PIR is activity, nothing
//!   reaches the centre), activation requested with a new position, checked
//!   and activated by the centre, armed again on the unit.
//!
//! (A disarm that expires on the unit with the hub down is in
//! `agent_e2e.rs`.)

use std::time::Duration;

use jiff::{SignedDuration, Timestamp, tz::TimeZone};
use picket_proto::arming::ArmState;
use picket_proto::message::EventKind;
use picket_tests::cluster::{Cluster, SITE, wait_for};
use serde_json::{Value, json};

const SYNC: Duration = Duration::from_secs(30);
const PASSWORD: &str = "correct horse battery staple";

/// An organisation made by the operator token; its id.
fn org(c: &Cluster, kind: &str, name: &str) -> String {
    let (status, body) = c.operator(
        "POST",
        "/api/v1/organisations",
        Some(json!({ "kind": kind, "name": name })),
    );
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().expect("id").to_owned()
}

/// A person invited by the operator token (no mail configured: the link is
/// in the answer), who accepts and signs in; their session cookie.
fn person(c: &Cluster, org: &str, email: &str, role: &str) -> String {
    let (status, body) = c.operator(
        "POST",
        &format!("/api/v1/organisations/{org}/users"),
        Some(json!({ "email": email, "name": email, "role": role })),
    );
    assert_eq!(status, 201, "{body}");
    let link = body["invitation_link"].as_str().expect("link");
    let token = link.split('#').nth(1).expect("token");
    c.accept_invitation(token, PASSWORD);
    c.sign_in(email, PASSWORD)
}

const DAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// The customer's site (the cluster's units are provisioned for it) with
/// `windows` every day, and every unit on it.
fn customer_site(c: &Cluster, customer: &str, windows: &[&str]) {
    let week: serde_json::Map<String, Value> = DAYS
        .into_iter()
        .map(|d| (d.to_owned(), json!(windows)))
        .collect();
    let (status, body) = c.operator(
        "PUT",
        &format!("/api/v1/sites/{SITE}"),
        Some(json!({ "name": "Quay", "org": customer,
                     "schedule": { "time_zone": "Europe/Copenhagen", "week": week } })),
    );
    assert!(status == 200 || status == 201, "{status} {body}");
    for unit in &c.units {
        c.api(
            "PUT",
            &format!("/api/v1/units/{unit}/site"),
            Some(json!({ "site": SITE })),
        );
    }
}

/// The unit's events at the hub, oldest first.
fn hub_events(c: &Cluster, n: usize) -> Vec<picket_proto::message::Event> {
    let mut events: Vec<_> = c
        .hub_store()
        .events(c.units[n], 100_000)
        .expect("events")
        .into_iter()
        .map(|r| r.event)
        .collect();
    events.sort_by_key(|e| e.seq);
    events
}

fn queue(c: &Cluster, cookie: &str) -> Vec<Value> {
    let (status, body) = c.as_user(cookie, "GET", "/api/v1/centre/queue", None);
    assert_eq!(status, 200, "{body}");
    body.as_array().expect("list").clone()
}

fn step(c: &Cluster, cookie: &str, item: &str, step: &str, body: Option<Value>) -> Value {
    let (status, answer) = c.as_user(
        cookie,
        "POST",
        &format!("/api/v1/centre/queue/{item}/{step}"),
        body,
    );
    assert_eq!(status, 200, "{step}: {answer}");
    answer
}

#[test]
fn a_schedule_day_edited_and_copied_to_the_week_arms_the_unit_at_that_local_instant() {
    let mut c = Cluster::start(1);
    let customer = org(&c, "customer", "Harbour Ltd");
    let owner = person(&c, &customer, "anna@harbour.example", "owner");
    customer_site(&c, &customer, &[]);
    c.start_agent(0);
    c.wait_synced(0, "disarmed");

    // Arm from the next whole minute at least 8 s away, on that local day.
    let tz = TimeZone::get("Europe/Copenhagen").expect("tz");
    let soon = Timestamp::now() + SignedDuration::from_secs(8);
    let local = soon.to_zoned(tz.clone());
    let start = local
        .datetime()
        .with()
        .second(0)
        .subsec_nanosecond(0)
        .build()
        .expect("minute")
        + SignedDuration::from_secs(60);
    let arm_at = start.to_zoned(tz).expect("local").timestamp();
    let day = DAYS[start.weekday().to_monday_zero_offset() as usize];
    let window = format!("{:02}:{:02}-24:00", start.hour(), start.minute());
    let (status, body) = c.as_user(
        &owner,
        "PUT",
        &format!("/api/v1/sites/{SITE}/schedule/days/{day}"),
        Some(json!([window])),
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = c.as_user(
        &owner,
        "POST",
        &format!("/api/v1/sites/{SITE}/schedule/copy-day"),
        Some(json!({ "day": day })),
    );
    assert_eq!(status, 200, "{body}");
    let (_, site) = c.as_user(&owner, "GET", &format!("/api/v1/sites/{SITE}"), None);
    for d in DAYS {
        assert_eq!(site["schedule"]["week"][d], json!([window]), "{d}: {site}");
    }
    // The unit confirms the new config while still disarmed...
    c.wait_synced(0, "disarmed");
    assert!(
        Timestamp::now() < arm_at,
        "the test took too long to set up"
    );
    // ...and arms at that instant by its own clock.
    let armed = wait_for(
        "the unit arming by schedule",
        Duration::from_secs(90),
        || {
            hub_events(&c, 0).into_iter().find(|e| {
                matches!(
                    e.kind,
                    EventKind::ArmStateChanged {
                        state: ArmState::Armed,
                        ..
                    }
                )
            })
        },
    );
    let late = armed.at.duration_since(arm_at);
    assert!(
        late >= SignedDuration::ZERO && late < SignedDuration::from_secs(2),
        "armed at {} for a window from {arm_at} ({late:?} late)",
        armed.at
    );
    let EventKind::ArmStateChanged { reason, .. } = &armed.kind else {
        unreachable!()
    };
    assert!(reason.contains("schedule"), "{reason}");
}

#[test]
fn an_alarm_is_claimed_handled_and_its_report_reaches_the_customer_at_once_or_after_review() {
    let mut c = Cluster::start(1);
    let centre = org(&c, "operator", "Picket Security");
    let customer = org(&c, "customer", "Harbour Ltd");
    let owner = person(&c, &customer, "anna@harbour.example", "owner");
    let ole = person(&c, &centre, "ole@centre.example", "centre_operator");
    customer_site(&c, &customer, &["00:00-24:00"]);
    c.start_agent(0);
    c.wait_synced(0, "armed");

    let handle = |outcome: &str, notes: &str| -> String {
        let item = wait_for("an alarm in the centre's queue", SYNC, || {
            queue(&c, &ole)
                .into_iter()
                .find(|i| i["kind"] == "alarm")
                .map(|i| i["id"].as_str().expect("id").to_owned())
        });
        step(&c, &ole, &item, "claim", None);
        step(&c, &ole, &item, "acknowledge", None);
        step(
            &c,
            &ole,
            &item,
            "handle",
            Some(json!({ "outcome": outcome, "notes": notes })),
        );
        item
    };

    // Reports as they come (the default).
    assert!(c.trigger(0, "pir"));
    let first = handle(
        "intruder",
        "Person at the fence left when the siren sounded",
    );
    let (status, alarm) = c.as_user(&owner, "GET", &format!("/api/v1/alarms/{first}"), None);
    assert_eq!(status, 200, "{alarm}");
    assert_eq!(alarm["sensor"], "pir-1");
    assert_eq!(alarm["state"], "armed");
    assert_eq!(alarm["centre"]["state"], "handled");
    assert_eq!(alarm["incident_report"]["outcome"], "intruder");
    assert!(alarm["centre"]["response_s"].as_f64().expect("response") >= 0.0);

    // The customer asks to see reports only after the centre's review.
    let (status, body) = c.as_user(
        &owner,
        "PUT",
        &format!("/api/v1/organisations/{customer}/sharing"),
        Some(json!({ "incident_reports_after_review": true })),
    );
    assert!((200..300).contains(&status), "{status} {body}");
    assert!(c.trigger(0, "door"));
    let second = handle("false_alarm", "Wind; gate rattling");
    let (_, alarm) = c.as_user(&owner, "GET", &format!("/api/v1/alarms/{second}"), None);
    assert_eq!(alarm["centre"]["state"], "handled");
    assert_eq!(alarm["incident_report"], Value::Null, "awaiting review");
    step(&c, &ole, &second, "share-report", None);
    let (_, alarm) = c.as_user(&owner, "GET", &format!("/api/v1/alarms/{second}"), None);
    assert_eq!(alarm["incident_report"]["notes"], "Wind; gate rattling");

    let (_, list) = c.as_user(&owner, "GET", "/api/v1/alarms?status=handled", None);
    assert_eq!(list.as_array().expect("list").len(), 2, "{list}");
}

#[test]
fn relocation_round_trip_pauses_the_unit_and_the_centre_activates_it_at_its_new_position() {
    let mut c = Cluster::start(1);
    let centre = org(&c, "operator", "Picket Security");
    let customer = org(&c, "customer", "Harbour Ltd");
    let owner = person(&c, &customer, "anna@harbour.example", "owner");
    let ole = person(&c, &centre, "ole@centre.example", "centre_operator");
    customer_site(&c, &customer, &["00:00-24:00"]);
    c.start_agent(0);
    c.wait_synced(0, "armed");
    let unit = c.units[0];
    let relocate = |body: Value| {
        let (status, answer) = c.as_user(
            &owner,
            "POST",
            &format!("/api/v1/units/{unit}/relocation"),
            Some(body),
        );
        assert_eq!(status, 200, "{answer}");
    };

    relocate(json!({ "to": "relocating" }));
    c.wait_synced(0, "paused");
    // Moving it sets off the PIR: recorded as activity, the centre is not
    // called.
    let before = hub_events(&c, 0).len();
    assert!(c.trigger(0, "pir"));
    let moved = wait_for("the PIR recorded", SYNC, || {
        let events = hub_events(&c, 0);
        (events.len() > before).then(|| events[before..].to_vec())
    });
    assert!(
        moved
            .iter()
            .all(|e| !matches!(e.kind, EventKind::Alarm { .. })),
        "{moved:?}"
    );
    assert!(matches!(
        moved.last().map(|e| &e.kind),
        Some(EventKind::Activity {
            state: ArmState::Paused,
            ..
        })
    ));
    assert!(queue(&c, &ole).is_empty());

    let there = json!({ "latitude": 55.6761, "longitude": 12.5683 });
    relocate(json!({ "to": "activation_requested", "position": there }));
    let item = wait_for("the activation request in the queue", SYNC, || {
        queue(&c, &ole)
            .into_iter()
            .find(|i| i["kind"] == "activation")
    });
    assert_eq!(item["requested_position"], there);
    assert_eq!(item["unit"], unit.to_string());
    let id = item["id"].as_str().expect("id");
    step(&c, &ole, id, "claim", None);
    step(
        &c,
        &ole,
        id,
        "handle",
        Some(json!({ "outcome": "activated" })),
    );

    // Armed again on the unit, at its new place.
    c.wait_synced(0, "armed");
    let (_, seen) = c.as_user(
        &owner,
        "GET",
        &format!("/api/v1/units/{unit}/relocation"),
        None,
    );
    assert_eq!(seen["state"], "active");
    assert_eq!(seen["position"], there);
    assert_eq!(seen["last_request"]["decision"], "activated");
    assert!(c.trigger(0, "pir"));
    wait_for("an alarm queued again", SYNC, || {
        queue(&c, &ole).into_iter().find(|i| i["kind"] == "alarm")
    });
}

#[test]
fn a_tamper_blip_raises_nothing_and_a_lasting_tamper_raises_one_queue_item() {
    let mut c = Cluster::start(1);
    c.reconfigure_hub("[centre]\ntamper_debounce_s = 2\n");
    let centre = org(&c, "operator", "Picket Security");
    let customer = org(&c, "customer", "Harbour Ltd");
    let ole = person(&c, &centre, "ole@centre.example", "centre_operator");
    customer_site(&c, &customer, &[]);
    c.start_agent(0);
    c.wait_synced(0, "disarmed");

    // Opened and closed at once: both events kept, no queue item.
    assert!(c.trigger(0, "tamper"));
    assert!(c.trigger_with(0, "tamper", &["--restore"]));
    // Then opened and left open.
    assert!(c.trigger(0, "tamper"));
    let item = wait_for("a tamper item", SYNC, || {
        queue(&c, &ole).into_iter().find(|i| i["kind"] == "tamper")
    });
    let events = hub_events(&c, 0);
    let tags: Vec<&str> = events
        .iter()
        .map(|e| e.kind.tag())
        .filter(|t| t.starts_with("tamper"))
        .collect();
    assert_eq!(tags, ["tamper", "tamper_restored", "tamper"]);
    let lasting = events
        .iter()
        .rfind(|e| e.kind.tag() == "tamper")
        .expect("tamper");
    assert_eq!(
        item["id"],
        lasting.id.to_string(),
        "the item is the lasting spell's, not the blip's"
    );
    let tampers = queue(&c, &ole)
        .into_iter()
        .filter(|i| i["kind"] == "tamper")
        .count();
    assert_eq!(tampers, 1);
    let (_, fleet) = c.as_user(&ole, "GET", "/api/v1/fleet?problem=tamper", None);
    assert_eq!(fleet["summary"]["tamper"], 1, "{fleet}");
}
