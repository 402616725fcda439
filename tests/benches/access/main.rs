//! The access model's cost, measured: `cargo bench -p picket-tests --bench access`.
//!
//! The budget: permission checks add at most 50 µs to a request, and list
//! endpoints answer with p99 ≤ 20 ms with 10,000 units, 5,000 users and 100
//! organisations in the store. The bench fills a real store (SQLite,
//! `synchronous=FULL`, in a temporary directory) to that size through the
//! store's public API — one operator and 99 customers, 10 sites per customer
//! (three of them sub-sites, one two levels down), 50 users per
//! organisation in a mix of roles, every third one restricted to two sites,
//! and 10,000 units spread over the sites — and prints one line per figure
//! (figures are printed, never asserted):
//!
//! - **a.** `picket_access::decide` on the store's directory snapshot, per
//!   check, timed in batches of 100: a restricted site manager on a sub-site
//!   two levels down (the lineage walk), an unrestricted customer admin, an
//!   operator admin, and a customer asking about another customer's site.
//! - **b.** `picket_access::may_see_user` over the 50 users of a customer,
//!   as its owner and as a restricted customer admin.
//! - **c.** whole requests to the real router served on loopback
//!   (`picket_hub::api::serve`), one HTTP/1.1 connection per request, sent
//!   in one write with TCP_NODELAY (as a browser does), timed to the last
//!   byte of the response: the list endpoints and `GET /api/v1/session` as a
//!   signed-in customer owner, as a signed-in operator admin and with the
//!   operator token.
//! - **d.** what `GET /api/v1/units` spends per unit on permission checks:
//!   the operator admin's request (10,000 units checked) against the
//!   operator token's (none checked, same response), less the difference in
//!   signing in.
//! - **e.** the owner's `GET /api/v1/units` again with the hub's default log
//!   filter (`info`, as `picket-hub serve` runs), written to a sink.
//!
//! Every wait is bounded; a run takes under a minute (filling the store
//! 7-14 s of it) on 2 cores.
//! `PICKET_BENCH_LOG` sets the log filter (default `warn`).
//!
//! Run by `cargo test` (no `--bench` argument) it prints how to run it and
//! exits: it is not a test.

use std::collections::BTreeSet;
use std::hint::black_box;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use picket_access::{Actor, OrgKind, Permission, Role, SiteScope, Target, decide, may_see_user};
use picket_hub::clock::SystemClock;
use picket_hub::store::{AuditEntry, NewUser, Store};
use picket_proto::ids::{OrgId, SiteId, UnitId, UserId};
use picket_proto::schedule::{ScheduleSpec, WeeklySchedule};
use tracing_subscriber::{EnvFilter, Registry, reload};

/// The bench's own HTTP/1.1 client and sign-in.
mod http;
use http::*;

const CUSTOMERS: usize = 99;
const SITES_PER_CUSTOMER: usize = 10;
const USERS_PER_ORG: usize = 50;
const UNITS: usize = 10_000;
/// Checks per timed batch in parts a and b.
const BATCH: u32 = 100;
/// Timed batches per case in part a (× [`BATCH`] checks).
const BATCHES: usize = 1_000;
/// Requests per figure in part c, after [`WARM_UP`] untimed ones.
const REQUESTS: usize = 500;
const WARM_UP: usize = 20;
/// The most one request figure may take; a figure cut short says so.
const REQUEST_BUDGET: Duration = Duration::from_secs(20);
const PASSWORD: &str = "bench password, not a secret";
const OPERATOR_TOKEN: &str = "bench-operator-token-0123456789abcdef";

/// Whether log output goes to a sink (part e) rather than stderr.
static QUIET: AtomicBool = AtomicBool::new(false);

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "access: a benchmark, not a test; run `cargo bench -p picket-tests --bench access`"
        );
        return;
    }
    let log = init_logging();
    let wall = Instant::now();
    print_machine("start");
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut store = Store::open(&dir.path().join("hub.db")).expect("open the store");
    let world = populate(&mut store);
    let directory = store.directory().expect("the directory snapshot");

    decisions(&world, &directory);
    user_lists(&world, &store, &directory);
    drop(directory);
    unit_rows(&store);
    requests(&world, store, log.as_ref());

    println!(
        "(bench wall time {:.0} s, population included)",
        wall.elapsed().as_secs_f64()
    );
    print_machine("end");
}

/// A user as created, and as the access model sees them.
struct Person {
    actor: Actor,
    email: String,
}

struct Customer {
    org: OrgId,
    sites: Vec<SiteId>,
    people: Vec<Person>,
}

struct World {
    operator: Vec<Person>,
    customers: Vec<Customer>,
}

/// Ids from the real clock with a counter for the random part (the
/// counter sits in bytes the UUIDv7 layout leaves alone).
struct Ids(u32);

impl Ids {
    fn bytes(&mut self) -> [u8; 10] {
        self.0 += 1;
        let mut b = [0; 10];
        b[6..].copy_from_slice(&self.0.to_be_bytes());
        b
    }
}

fn setup_audit(action: &str) -> AuditEntry {
    AuditEntry {
        actor: None,
        actor_label: "access bench".into(),
        address: "127.0.0.1".into(),
        action: action.into(),
        target: String::new(),
        org: None,
        detail: serde_json::Value::Null,
    }
}

/// Customer user `i` of 50: one owner, two customer admins (the second
/// restricted to sites 0 and 3), site managers, keyholders and viewers;
/// from `i` = 3 on every third user is restricted to two top-level sites
/// (user 3, a site manager, also to sites 0 and 3).
fn customer_role(i: usize, sites: &[SiteId]) -> (Role, SiteScope) {
    let role = match i {
        0 => Role::Owner,
        1 | 2 => Role::CustomerAdmin,
        3..10 => Role::SiteManager,
        10..25 => Role::Keyholder,
        _ => Role::Viewer,
    };
    let restricted = i == 2 || (i >= 3 && i.is_multiple_of(3));
    let scope = if restricted {
        let k = if i == 2 { 1 } else { i / 3 };
        SiteScope::Only(BTreeSet::from([sites[(k + 6) % 7], sites[(k + 2) % 7]]))
    } else {
        SiteScope::All
    };
    (role, scope)
}

fn operator_role(i: usize) -> Role {
    match i {
        0 => Role::OperatorAdmin,
        1..5 => Role::CentreSupervisor,
        5..30 => Role::CentreOperator,
        _ => Role::Installer,
    }
}

/// Fills the store through its public API, one transaction per call (the
/// API has no batch form), and prints how long each kind of row took.
fn populate(store: &mut Store) -> World {
    let mut ids = Ids(0);
    let t = Instant::now();
    let hash = picket_hub::auth::password::hash_password(PASSWORD).expect("hash the password");
    let hash_time = t.elapsed();

    let t = Instant::now();
    let operator = OrgId::v7(Timestamp::now(), ids.bytes());
    store
        .create_org(
            operator,
            OrgKind::Operator,
            "Operator",
            &setup_audit("org.create"),
            Timestamp::now(),
        )
        .expect("create the operator");
    let mut customers: Vec<Customer> = Vec::with_capacity(CUSTOMERS);
    for c in 0..CUSTOMERS {
        let org = OrgId::v7(Timestamp::now(), ids.bytes());
        store
            .create_org(
                org,
                OrgKind::Customer,
                &format!("Customer {c:02}"),
                &setup_audit("org.create"),
                Timestamp::now(),
            )
            .expect("create a customer");
        customers.push(Customer {
            org,
            sites: Vec::new(),
            people: Vec::new(),
        });
    }
    let orgs_time = t.elapsed();

    let t = Instant::now();
    let schedule = WeeklySchedule::new(ScheduleSpec::empty("Europe/Copenhagen"))
        .expect("an empty schedule is valid");
    for (c, customer) in customers.iter_mut().enumerate() {
        for s in 0..SITES_PER_CUSTOMER {
            let site = SiteId::v7(Timestamp::now(), ids.bytes());
            store
                .upsert_site(
                    site,
                    &format!("Customer {c:02} site {s}"),
                    &schedule,
                    &setup_audit("site.create"),
                    Timestamp::now(),
                )
                .expect("create a site");
            customer.sites.push(site);
        }
        // 7 under 0, 8 under 7 (two levels down), 9 under 1.
        let sites = &customer.sites;
        for (s, &site) in sites.iter().enumerate() {
            let parent = match s {
                7 => Some(sites[0]),
                8 => Some(sites[7]),
                9 => Some(sites[1]),
                _ => None,
            };
            store
                .place_site(
                    site,
                    customer.org,
                    parent,
                    &setup_audit("site.place"),
                    Timestamp::now(),
                )
                .expect("place a site");
        }
    }
    let sites_time = t.elapsed();

    let t = Instant::now();
    let mut add_user = |store: &mut Store, org: OrgId, email: String, role, scope: SiteScope| {
        let id = UserId::v7(Timestamp::now(), ids.bytes());
        let user = NewUser {
            org,
            email: email.clone(),
            name: email.clone(),
            role,
            scope: scope.clone(),
            password: Some(hash.clone()),
        };
        store
            .create_user(id, &user, &setup_audit("user.create"), Timestamp::now())
            .expect("create a user");
        Person {
            actor: Actor::new(id, org, role, scope),
            email,
        }
    };
    let operator_people: Vec<Person> = (0..USERS_PER_ORG)
        .map(|i| {
            let email = format!("u{i}@operator.bench.invalid");
            add_user(store, operator, email, operator_role(i), SiteScope::All)
        })
        .collect();
    for (c, customer) in customers.iter_mut().enumerate() {
        for i in 0..USERS_PER_ORG {
            let (role, scope) = customer_role(i, &customer.sites);
            let email = format!("u{i}@c{c}.bench.invalid");
            let person = add_user(store, customer.org, email, role, scope);
            customer.people.push(person);
        }
    }
    let users_time = t.elapsed();

    // Units, round-robin over customers, then over each customer's sites.
    let t = Instant::now();
    for i in 0..UNITS {
        let customer = &customers[i % CUSTOMERS];
        let site = customer.sites[(i / CUSTOMERS) % SITES_PER_CUSTOMER];
        let unit = UnitId::v7(Timestamp::now(), ids.bytes());
        store
            .assign_unit(unit, site, &setup_audit("unit.assign"), Timestamp::now())
            .expect("assign a unit");
    }
    let units_time = t.elapsed();

    let total = hash_time + orgs_time + sites_time + users_time + units_time;
    let sites = CUSTOMERS * SITES_PER_CUSTOMER;
    let users = USERS_PER_ORG * (CUSTOMERS + 1);
    println!(
        "(populated the store in {:.1} s through its API, one transaction per call: {} organisations {:.2} s, {sites} sites (upsert_site + place_site) {:.1} s, {users} users {:.1} s, {UNITS} units (assign_unit) {:.1} s = {:.2} ms per unit; argon2 hash once {:.0} ms)",
        total.as_secs_f64(),
        CUSTOMERS + 1,
        orgs_time.as_secs_f64(),
        sites_time.as_secs_f64(),
        users_time.as_secs_f64(),
        units_time.as_secs_f64(),
        units_time.as_secs_f64() * 1000.0 / UNITS as f64,
        hash_time.as_secs_f64() * 1000.0
    );
    World {
        operator: operator_people,
        customers,
    }
}

/// Times `check` in batches of [`BATCH`] after a warm-up; each sample is
/// the batch's time per check. Returns the samples and the last answer.
fn per_check(batches: usize, mut check: impl FnMut() -> bool) -> (Vec<Duration>, bool) {
    let mut answer = false;
    for _ in 0..batches / 10 * BATCH as usize {
        answer = black_box(check());
    }
    let mut samples = Vec::with_capacity(batches);
    for _ in 0..batches {
        let t = Instant::now();
        for _ in 0..BATCH {
            answer = black_box(check());
        }
        samples.push(t.elapsed() / BATCH);
    }
    (samples, answer)
}

/// Part a.
fn decisions(world: &World, directory: &picket_hub::store::DirectorySnapshot) {
    let c0 = &world.customers[0];
    let deep = Target::Site(c0.sites[8]);
    let cases = [
        (
            "restricted site manager (Only 2 sites), sub-site 2 levels down (3-site lineage walk)",
            &c0.people[3].actor,
            true,
        ),
        (
            "unrestricted customer admin, same sub-site",
            &c0.people[1].actor,
            true,
        ),
        (
            "operator admin, same sub-site",
            &world.operator[0].actor,
            true,
        ),
        (
            "IDOR: another customer's owner, same sub-site",
            &world.customers[1].people[0].actor,
            false,
        ),
    ];
    for (label, actor, expected) in cases {
        let now = Timestamp::now();
        let (samples, allowed) = per_check(BATCHES, || {
            decide(
                black_box(actor),
                Permission::ViewUnits,
                black_box(&deep),
                directory,
                now,
            )
            .is_allowed()
        });
        println!(
            "a. decide(view_units) on the store's directory snapshot, {label}: {} → {}{}",
            ns_figures(&samples, "check"),
            if allowed { "allowed" } else { "denied" },
            if allowed == expected {
                ""
            } else {
                " (UNEXPECTED: the set-up is wrong)"
            }
        );
    }
}

/// Part b.
fn user_lists(world: &World, store: &Store, directory: &picket_hub::store::DirectorySnapshot) {
    let c0 = &world.customers[0];
    let users = store.users(c0.org).expect("customer 0's users");
    for (label, actor) in [
        ("owner", &c0.people[0].actor),
        ("customer admin restricted to 2 sites", &c0.people[2].actor),
    ] {
        let mut visible = 0;
        let (samples, _) = per_check(BATCHES / 10, || {
            visible = users
                .iter()
                .filter(|u| {
                    may_see_user(black_box(actor), u.org, u.role, &u.scope, directory).is_allowed()
                })
                .count();
            visible > 0
        });
        let mean = samples.iter().sum::<Duration>() / samples.len().max(1) as u32;
        println!(
            "b. may_see_user over the {} users of a customer, as its {label} ({visible} visible): {}; mean {} ns per user",
            users.len(),
            ns_figures(&samples, &format!("list of {}", users.len())),
            mean.as_nanos() / users.len().max(1) as u128
        );
    }
}

/// What `GET /api/v1/units` starts with: every unit's row.
fn unit_rows(store: &Store) {
    let mut samples = Vec::new();
    let mut rows = 0;
    for i in 0..60 {
        let t = Instant::now();
        rows = black_box(store.units().expect("every unit")).len();
        if i >= 10 {
            samples.push(t.elapsed());
        }
    }
    println!(
        "c. Store::units() alone (what GET /api/v1/units reads for every caller before filtering; {rows} rows): {}",
        ms_figures(&samples)
    );
}

/// Parts c, d and e: the real router on loopback.
fn requests(world: &World, store: Store, log: Option<&reload::Handle<EnvFilter, Registry>>) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let (publish_tx, _publish_rx) = tokio::sync::mpsc::channel(64);
    let state = picket_hub::api::ApiState::new(
        store,
        publish_tx,
        Arc::new(SystemClock),
        OPERATOR_TOKEN.into(),
    );
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind the API listener");
    let addr = listener.local_addr().expect("API address");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = runtime.spawn(picket_hub::api::serve(listener, state, async {
        let _ = stop_rx.await;
    }));

    let c0 = &world.customers[0];
    let owner = sign_in(addr, &c0.people[0].email);
    let admin = sign_in(addr, &world.operator[0].email);
    let token = format!("Authorization: Bearer {OPERATOR_TOKEN}\r\n");
    let org = c0.org;
    let other = world.customers[1].org;
    let mut figures = std::collections::HashMap::new();
    let runs: [(&str, &str, String, &str, u16); 10] = [
        ("owner", "units", "/api/v1/units".into(), &owner, 200),
        (
            "owner",
            "users",
            format!("/api/v1/organisations/{org}/users"),
            &owner,
            200,
        ),
        (
            "owner",
            "sites",
            format!("/api/v1/organisations/{org}/sites"),
            &owner,
            200,
        ),
        ("owner", "session", "/api/v1/session".into(), &owner, 200),
        (
            "owner",
            "idor",
            format!("/api/v1/organisations/{other}/sites"),
            &owner,
            404,
        ),
        ("admin", "units", "/api/v1/units".into(), &admin, 200),
        ("admin", "orgs", "/api/v1/organisations".into(), &admin, 200),
        ("admin", "session", "/api/v1/session".into(), &admin, 200),
        ("token", "units", "/api/v1/units".into(), &token, 200),
        ("token", "session", "/api/v1/session".into(), &token, 200),
    ];
    for (who, what, path, headers, status) in &runs {
        let caller = match *who {
            "owner" => "customer 0's owner (session)",
            "admin" => "the operator admin (session)",
            _ => "the operator token",
        };
        let note = if *what == "idor" {
            " (customer 1's sites: an IDOR attempt, answered 404)"
        } else {
            ""
        };
        match time_requests(addr, path, headers, *status) {
            Ok(run) => {
                println!("c. GET {path} as {caller}{note}: {}", run.describe());
                figures.insert((*who, *what), percentile(&run.samples, 0.50));
            }
            Err(e) => println!("c. GET {path} as {caller}: FAILED: {e}"),
        }
    }

    let p50 = |who, what| figures.get(&(who, what)).map(Duration::as_secs_f64);
    if let (Some(admin_units), Some(token_units), Some(admin_me), Some(token_me)) = (
        p50("admin", "units"),
        p50("token", "units"),
        p50("admin", "session"),
        p50("token", "session"),
    ) {
        let filtering = (admin_units - token_units) - (admin_me - token_me);
        println!(
            "d. GET /api/v1/units, operator admin (all {UNITS} units checked, a page of 1,000 shown) vs operator token (none checked, same response), less the difference in signing in (GET /session): {:.2} ms per request = {:.2} µs per unit checked (p50s){}",
            filtering * 1e3,
            filtering * 1e6 / UNITS as f64,
            match p50("owner", "units") {
                Some(owner) => format!(
                    "; the owner's request (same {UNITS} checks, 1/99 of the response) takes {:.2} ms vs the token's {:.2} ms",
                    owner * 1e3,
                    token_units * 1e3
                ),
                None => String::new(),
            }
        );
    }

    match log {
        Some(handle) if handle.reload(EnvFilter::new("info")).is_ok() => {
            QUIET.store(true, Ordering::Relaxed);
            let run = time_requests(addr, "/api/v1/units", &owner, 200);
            QUIET.store(false, Ordering::Relaxed);
            let restore = std::env::var("PICKET_BENCH_LOG").unwrap_or_else(|_| "warn".into());
            let _ = handle.reload(EnvFilter::new(restore));
            match run {
                Ok(run) => println!(
                    "e. GET /api/v1/units as customer 0's owner with the hub's default log filter (info; lines formatted, written to a sink): {}",
                    run.describe()
                ),
                Err(e) => println!("e. FAILED: {e}"),
            }
        }
        _ => println!("e. skipped: cannot change the log filter"),
    }

    let _ = stop_tx.send(());
    let _ = runtime.block_on(async { tokio::time::timeout(Duration::from_secs(5), server).await });
    runtime.shutdown_timeout(Duration::from_secs(5));
}
