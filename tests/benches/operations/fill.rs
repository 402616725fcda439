//! Part A's data: organisations, sites, people and units through the
//! store's API (one transaction per call), a million events through
//! `Store::commit` in large transactions, and the centre's queue worked
//! down to its newest items.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use picket_access::{OrgKind, Role, SiteScope};
use picket_hub::centre::queue::Outcome;
use picket_hub::store::{AuditEntry, Incoming, NewUser, Store};
use picket_proto::arming::ArmState;
use picket_proto::ids::{EventId, OrgId, SiteId, UnitId, UserId};
use picket_proto::level::SensorKind;
use picket_proto::message::{Event, EventKind, PowerEvent, UnitStatus};
use picket_proto::schedule::{ScheduleSpec, WeeklySchedule};

use super::{Ids, PASSWORD, Rng, setup_audit};

pub(crate) const CUSTOMERS: usize = 99;
pub(crate) const SITES_PER_CUSTOMER: usize = 10;
pub(crate) const UNITS: usize = 10_000;
pub(crate) const EVENTS: usize = 1_000_000;
/// Events per `Store::commit` (one transaction, one `received_at`).
const BATCH: usize = 5_000;
/// The events' `at` instants span this many days, ending at the start of
/// the bench.
pub(crate) const DAYS: i64 = 30;
/// Queue items left open (the newest).
const OPEN_ITEMS: usize = 200;
/// Units that go offline in each batch (and come back in the next).
const FLAPS_PER_BATCH: usize = 25;

pub(crate) struct Customer {
    pub(crate) org: OrgId,
    pub(crate) sites: Vec<SiteId>,
}

/// What part A needs to know about the filled store.
pub(crate) struct World {
    pub(crate) customers: Vec<Customer>,
    /// E-mail of customer 0's owner.
    pub(crate) owner: String,
    /// E-mail of the operator admin.
    pub(crate) admin: String,
    /// E-mail of a centre operator (who handled the queue's items).
    pub(crate) centre: String,
    /// When the events' 30 days end (the bench's start).
    pub(crate) end: Timestamp,
}

/// Fills `store` and prints how long each part took.
pub(crate) fn fill(store: &mut Store) -> World {
    let end = Timestamp::now();
    let mut ids = Ids::new();
    let mut rng = Rng::new(0x5eed_0005);
    let t = Instant::now();
    let (world, units, centre_user, site_org) = directory(store, &mut ids, end);
    let directory_time = t.elapsed();

    let t = Instant::now();
    let filled = events(store, &units, end, &mut ids, &mut rng);
    let events_time = t.elapsed();

    let t = Instant::now();
    let (closed, open) = close_queue(store, centre_user, &world.centre, &site_org, &mut rng);
    let queue_time = t.elapsed();

    let total = directory_time + events_time + queue_time;
    println!(
        "(filled the store in {:.1} s: directory ({} organisations, {} sites, 3 people, {UNITS} units assigned, one transaction per call) {:.1} s; {EVENTS} events in {} transactions of {BATCH} via Store::commit {:.1} s = {:.0} events/s ({} alarms → {} queue items; {} online/offline changes); {closed} queue items handled, one audited transaction each, {:.1} s = {:.2} ms per item, {open} left open)",
        total.as_secs_f64(),
        CUSTOMERS + 1,
        CUSTOMERS * SITES_PER_CUSTOMER,
        directory_time.as_secs_f64(),
        EVENTS / BATCH,
        events_time.as_secs_f64(),
        EVENTS as f64 / events_time.as_secs_f64(),
        filled.alarms,
        closed + open,
        filled.status_changes,
        queue_time.as_secs_f64(),
        queue_time.as_secs_f64() * 1000.0 / closed.max(1) as f64,
    );
    world
}

fn person(
    store: &mut Store,
    ids: &mut Ids,
    hash: &str,
    org: OrgId,
    email: &str,
    role: Role,
) -> UserId {
    let id = UserId::v7(Timestamp::now(), ids.bytes());
    let user = NewUser {
        org,
        email: email.to_owned(),
        name: email.to_owned(),
        role,
        scope: SiteScope::All,
        password: Some(hash.to_owned()),
    };
    store
        .create_user(id, &user, &setup_audit("user.create"), Timestamp::now())
        .expect("create a user");
    id
}

/// Organisations, sites (7 under 0, 8 under 7, 9 under 1, as in the
/// access bench), the three people who sign in, and the units, round-robin
/// over customers and then over each customer's sites.
fn directory(
    store: &mut Store,
    ids: &mut Ids,
    end: Timestamp,
) -> (World, Vec<UnitId>, UserId, HashMap<SiteId, OrgId>) {
    let now = Timestamp::now;
    let operator = OrgId::v7(now(), ids.bytes());
    store
        .create_org(
            operator,
            OrgKind::Operator,
            "Operator",
            &setup_audit("org.create"),
            now(),
        )
        .expect("create the operator");
    let schedule = WeeklySchedule::new(ScheduleSpec::empty("Europe/Copenhagen"))
        .expect("an empty schedule is valid");
    let mut customers = Vec::with_capacity(CUSTOMERS);
    let mut site_org = HashMap::new();
    for c in 0..CUSTOMERS {
        let org = OrgId::v7(now(), ids.bytes());
        store
            .create_org(
                org,
                OrgKind::Customer,
                &format!("Customer {c:02}"),
                &setup_audit("org.create"),
                now(),
            )
            .expect("create a customer");
        let mut sites = Vec::with_capacity(SITES_PER_CUSTOMER);
        for s in 0..SITES_PER_CUSTOMER {
            let site = SiteId::v7(now(), ids.bytes());
            store
                .upsert_site(
                    site,
                    &format!("Customer {c:02} site {s}"),
                    &schedule,
                    &setup_audit("site.create"),
                    now(),
                )
                .expect("create a site");
            sites.push(site);
        }
        for (s, &site) in sites.iter().enumerate() {
            let parent = match s {
                7 => Some(sites[0]),
                8 => Some(sites[7]),
                9 => Some(sites[1]),
                _ => None,
            };
            store
                .place_site(site, org, parent, &setup_audit("site.place"), now())
                .expect("place a site");
            site_org.insert(site, org);
        }
        customers.push(Customer { org, sites });
    }

    let hash = picket_hub::auth::password::hash_password(PASSWORD).expect("hash the password");
    let owner = "owner@c0.bench.invalid".to_owned();
    let admin = "admin@operator.bench.invalid".to_owned();
    let centre = "centre@operator.bench.invalid".to_owned();
    person(store, ids, &hash, customers[0].org, &owner, Role::Owner);
    person(store, ids, &hash, operator, &admin, Role::OperatorAdmin);
    let centre_user = person(store, ids, &hash, operator, &centre, Role::CentreOperator);

    let mut units = Vec::with_capacity(UNITS);
    for i in 0..UNITS {
        let customer = &customers[i % CUSTOMERS];
        let site = customer.sites[(i / CUSTOMERS) % SITES_PER_CUSTOMER];
        let unit = UnitId::v7(now(), ids.bytes());
        store
            .assign_unit(unit, site, &setup_audit("unit.assign"), now())
            .expect("assign a unit");
        units.push(unit);
    }
    let world = World {
        customers,
        owner,
        admin,
        centre,
        end,
    };
    (world, units, centre_user, site_org)
}

struct Filled {
    alarms: usize,
    status_changes: usize,
}

const SENSORS: [(&str, SensorKind); 4] = [
    ("pir-1", SensorKind::Motion),
    ("pir-2", SensorKind::Motion),
    ("door-1", SensorKind::Door),
    ("door-2", SensorKind::Door),
];

/// 2 % alarms, 75 % activity, 18 % arm-state changes, 5 % power.
fn event_kind(rng: &mut Rng) -> EventKind {
    let roll = rng.next() % 100;
    let (sensor, sensor_kind) = SENSORS[(rng.next() % 4) as usize];
    match roll {
        0..2 => EventKind::Alarm {
            sensor: sensor.to_owned(),
            sensor_kind,
            camera: None,
            state: ArmState::Armed,
        },
        2..77 => EventKind::Activity {
            sensor: sensor.to_owned(),
            sensor_kind,
            state: ArmState::Disarmed,
        },
        77..95 if roll.is_multiple_of(2) => EventKind::ArmStateChanged {
            state: ArmState::Armed,
            reason: "armed by schedule until 07:00".to_owned(),
        },
        77..95 => EventKind::ArmStateChanged {
            state: ArmState::Disarmed,
            reason: "disarmed by schedule until 22:00".to_owned(),
        },
        _ => EventKind::Power(match roll % 3 {
            0 => PowerEvent::MainsLost,
            1 => PowerEvent::MainsRestored,
            _ => PowerEvent::BatteryLow,
        }),
    }
}

/// [`EVENTS`] events in batches of [`BATCH`], oldest batch first. Batch `k`
/// is committed with `received_at` = its slot in the 30 days; its events
/// happened 100-800 ms before that, from random units, with per-unit
/// increasing `seq`. The first batch also brings every unit online; each
/// batch takes [`FLAPS_PER_BATCH`] units offline and the previous batch's
/// back online.
fn events(
    store: &mut Store,
    units: &[UnitId],
    end: Timestamp,
    ids: &mut Ids,
    rng: &mut Rng,
) -> Filled {
    let batches = EVENTS / BATCH;
    let span_ms = DAYS * 86_400_000;
    let step_ms = span_ms / batches as i64;
    let start_ms = end.as_millisecond() - span_ms;
    let mut seq = vec![0u64; units.len()];
    let mut offline: Vec<usize> = Vec::new();
    let mut filled = Filled {
        alarms: 0,
        status_changes: 0,
    };
    let t = Instant::now();
    let mut last_report = Duration::ZERO;
    for k in 0..batches {
        let received_ms = start_ms + (k as i64 + 1) * step_ms - 60_000;
        let received = Timestamp::from_millisecond(received_ms).expect("a valid instant");
        let mut batch = Vec::with_capacity(BATCH + 2 * FLAPS_PER_BATCH + units.len());
        let status = |unit: usize, status| Incoming::Status {
            unit: units[unit],
            status,
        };
        if k == 0 {
            batch.extend((0..units.len()).map(|u| status(u, UnitStatus::Online)));
        }
        batch.extend(offline.drain(..).map(|u| status(u, UnitStatus::Online)));
        for _ in 0..FLAPS_PER_BATCH {
            let u = rng.range(0, units.len() as u64) as usize;
            if !offline.contains(&u) {
                offline.push(u);
                batch.push(status(u, UnitStatus::Offline));
            }
        }
        filled.status_changes += batch.len();
        // Oldest first, so ids and per-unit seqs follow `at`.
        let mut delays: Vec<i64> = (0..BATCH).map(|_| rng.range(100, 801) as i64).collect();
        delays.sort_unstable_by(|a, b| b.cmp(a));
        for delay in delays {
            let at = Timestamp::from_millisecond(received_ms - delay).expect("a valid instant");
            let u = rng.range(0, units.len() as u64) as usize;
            seq[u] += 1;
            let kind = event_kind(rng);
            if matches!(kind, EventKind::Alarm { .. }) {
                filled.alarms += 1;
            }
            batch.push(Incoming::Event {
                unit: units[u],
                event: Event {
                    id: EventId::v7(at, ids.bytes()),
                    seq: seq[u],
                    at,
                    kind,
                },
            });
        }
        store.commit(&batch, received).expect("commit a batch");
        let done = (k + 1) * BATCH;
        if done.is_multiple_of(100_000) {
            let elapsed = t.elapsed();
            println!(
                "  ({done} events in {:.1} s; last 100,000 at {:.0} events/s)",
                elapsed.as_secs_f64(),
                100_000.0 / (elapsed - last_report).as_secs_f64()
            );
            last_report = elapsed;
        }
    }
    filled
}

/// Handles every open item but the newest [`OPEN_ITEMS`] as a centre
/// operator would (claim, acknowledge, handle as a false alarm), written
/// as one audited change per item; returns (handled, left open).
fn close_queue(
    store: &mut Store,
    operator: UserId,
    email: &str,
    site_org: &HashMap<SiteId, OrgId>,
    rng: &mut Rng,
) -> (usize, usize) {
    let mut items = store.open_queue().expect("the open queue");
    items.sort_by_key(|i| (i.received_at, i.id));
    let close = items.len().saturating_sub(OPEN_ITEMS);
    let open = items.len() - close;
    let t = Instant::now();
    for (n, mut item) in items.into_iter().take(close).enumerate() {
        let before = item.status.clone();
        let secs = |rng: &mut Rng, lo, hi| SignedDuration::from_secs(rng.range(lo, hi) as i64);
        let claimed = item.received_at + secs(rng, 10, 91);
        let acknowledged = claimed + secs(rng, 1, 31);
        let handled = acknowledged + secs(rng, 30, 601);
        item.claim(operator, claimed, None).expect("claim");
        item.acknowledge(operator, acknowledged)
            .expect("acknowledge");
        item.handle(operator, handled, Outcome::FalseAlarm, "bench")
            .expect("handle");
        let audit = AuditEntry {
            actor: Some(operator),
            actor_label: email.to_owned(),
            address: "127.0.0.1".into(),
            action: "queue.handle".into(),
            target: format!("queue:{}", item.id),
            org: site_org.get(&item.site).copied(),
            detail: serde_json::json!({ "outcome": "false_alarm" }),
        };
        store
            .update_queue_item(&before, &item, &audit, Timestamp::now())
            .expect("update a queue item");
        if (n + 1).is_multiple_of(5_000) {
            println!(
                "  ({} queue items handled in {:.1} s)",
                n + 1,
                t.elapsed().as_secs_f64()
            );
        }
    }
    (close, open)
}
