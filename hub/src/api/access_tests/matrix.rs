//! The access matrix: every endpoint that acts on a site, an organisation, a
//! unit or a user, called by every role, on three targets — a site the caller
//! should reach (`own`), another site of the same customer outside a site
//! restriction (`other site`), and a site of another customer (`other org`).
//! The expected answer is written out below as a table; `A` means the
//! access model let the request through (2xx, or a 409/422 about the input),
//! `D` that it was refused (403, or 404 where even the target's existence is
//! not disclosed). A 401 or 500 fails the test outright. After the table,
//! the same test checks escalation, dealer access during and after a grant,
//! and revoked and expired sessions.
//!
//! The customer's users other than the owner are restricted to the `own`
//! site; the dealer serves the customer but has no grant (read-only); the
//! operator's users reach every customer's sites, but only its administrator
//! manages (and sees) another organisation's users, for onboarding.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::http::StatusCode;
use picket_proto::ids::UnitId;
use picket_proto::message::UnitStatus;
use serde_json::{Value, json};

use super::*;
use crate::store::Incoming;

/// The roles, in the table's column order.
const ROLES: [&str; 11] = [
    "owner",
    "customer_admin",
    "site_manager",
    "keyholder",
    "viewer",
    "operator_admin",
    "centre_supervisor",
    "centre_operator",
    "installer",
    "dealer_admin",
    "dealer_technician",
];

/// endpoint, then per role (columns as [`ROLES`]) own / other site / other
/// org.
const EXPECTED: &str = "
endpoint          owner cadmin sitemgr keyhold viewer opadmin superv centreop install dadmin dtech
site.get          AAD   ADD    ADD     ADD     ADD    AAA     AAA    AAA      AAA     AAD    AAD
site.schedule     AAD   ADD    ADD     DDD     DDD    AAA     DDD    DDD      DDD     DDD    DDD
schedule.day      AAD   ADD    ADD     DDD     DDD    AAA     DDD    DDD      DDD     DDD    DDD
schedule.copy     AAD   ADD    ADD     DDD     DDD    AAA     DDD    DDD      DDD     DDD    DDD
exception.set     AAD   ADD    ADD     DDD     DDD    AAA     DDD    DDD      DDD     DDD    DDD
exception.remove  AAD   ADD    ADD     DDD     DDD    AAA     DDD    DDD      DDD     DDD    DDD
site.level        AAD   ADD    ADD     DDD     DDD    AAA     DDD    DDD      DDD     DDD    DDD
site.disarm       AAD   ADD    ADD     ADD     DDD    AAA     DDD    DDD      DDD     DDD    DDD
site.undisarm     AAD   ADD    ADD     ADD     DDD    AAA     DDD    DDD      DDD     DDD    DDD
contacts.get      AAD   ADD    ADD     ADD     ADD    AAA     AAA    AAA      AAA     AAD    AAD
contacts.set      AAD   ADD    ADD     DDD     DDD    AAA     DDD    DDD      DDD     DDD    DDD
contacts.remove   AAD   ADD    ADD     DDD     DDD    AAA     DDD    DDD      DDD     DDD    DDD
report.sends      AAD   ADD    ADD     ADD     ADD    AAA     AAA    AAA      AAA     AAD    AAD
recipients.get    AAD   ADD    ADD     ADD     ADD    AAA     AAA    AAA      AAA     AAD    AAD
recipients.set    AAD   ADD    ADD     DDD     DDD    AAA     DDD    DDD      DDD     DDD    DDD
alarms.list       AAD   ADD    ADD     ADD     ADD    AAA     AAA    AAA      DDD     AAD    AAD
alarms.get        AAD   ADD    ADD     ADD     ADD    AAA     AAA    AAA      DDD     AAD    AAD
times.site        AAD   ADD    ADD     ADD     ADD    AAA     AAA    DDD      DDD     AAD    AAD
transmission      DDD   DDD    DDD     DDD     DDD    AAA     AAA    AAA      AAA     AAD    AAD
overview          AAA   AAA    AAA     AAA     AAA    AAA     AAA    AAA      AAA     AAA    AAA
queue.list        AAA   AAA    AAA     AAA     AAA    AAA     AAA    AAA      AAA     AAA    AAA
queue.claim       DDD   DDD    DDD     DDD     DDD    AAA     AAA    AAA      DDD     DDD    DDD
queue.share       DDD   DDD    DDD     DDD     DDD    AAA     AAA    AAA      DDD     DDD    DDD
subsite.create    AAD   ADD    DDD     DDD     DDD    AAA     DDD    DDD      DDD     DDD    DDD
clip.retention    AAD   ADD    DDD     DDD     DDD    AAA     DDD    DDD      DDD     DDD    DDD
clip.settings     AAD   ADD    DDD     DDD     DDD    AAA     DDD    DDD      DDD     DDD    DDD
clip.settings.get AAD   ADD    ADD     ADD     ADD    AAA     AAA    AAA      AAA     AAD    AAD
live.token        AAD   ADD    ADD     ADD     ADD    AAA     AAA    AAA      DDD     DDD    DDD
unit.events       AAD   ADD    ADD     ADD     ADD    AAA     AAA    AAA      AAA     AAD    AAD
unit.claim        DDD   DDD    DDD     DDD     DDD    AAA     AAA    AAA      AAA     DDD    DDD
unit.relocate     AAD   ADD    ADD     DDD     DDD    AAA     AAA    AAA      AAA     DDD    DDD
unit.relocation   AAD   ADD    ADD     ADD     ADD    AAA     AAA    AAA      AAA     AAD    AAD
unit.reloc.model  DDD   DDD    DDD     DDD     DDD    AAA     AAA    AAA      AAA     DDD    DDD
org.sites.list    AAD   AAD    AAD     AAD     AAD    AAA     AAA    AAA      AAA     AAD    AAD
org.sites.create  AAD   DDD    DDD     DDD     DDD    AAA     DDD    DDD      DDD     DDD    DDD
org.users.list    AAD   AAD    AAD     AAD     AAD    AAA     DDD    DDD      DDD     DDD    DDD
org.users.invite  AAD   ADD    DDD     DDD     DDD    DDD     DDD    DDD      DDD     DDD    DDD
org.sharing.set   AAD   DDD    DDD     DDD     DDD    AAA     DDD    DDD      DDD     DDD    DDD
org.audit         AAD   DDD    DDD     DDD     DDD    AAA     AAA    DDD      DDD     DDD    DDD
org.dealer.grant  AAD   DDD    DDD     DDD     DDD    DDD     DDD    DDD      DDD     DDD    DDD
org.dealer.list   AAD   DDD    DDD     DDD     DDD    AAA     AAA    AAA      AAA     AAD    AAD
org.sharing.get   AAD   AAD    AAD     AAD     AAD    AAA     AAA    AAA      AAA     AAD    AAD
user.edit         AAD   ADD    DDD     DDD     DDD    DDD     DDD    DDD      DDD     DDD    DDD
user.revoke       AAD   ADD    DDD     DDD     DDD    DDD     DDD    DDD      DDD     DDD    DDD
units.list        AAA   AAA    AAA     AAA     AAA    AAA     AAA    AAA      AAA     AAA    AAA
site.upsert       DDD   DDD    DDD     DDD     DDD    AAA     DDD    DDD      DDD     DDD    DDD
org.create        DDD   DDD    DDD     DDD     DDD    AAA     DDD    DDD      DDD     DDD    DDD
dealer.request    DDD   DDD    DDD     DDD     DDD    DDD     DDD    DDD      DDD     AAD    AAD
";

struct Target {
    org: String,
    site: String,
    unit: UnitId,
    /// An alarm from `unit`, in the centre's queue.
    item: picket_proto::ids::EventId,
    /// A viewer restricted to `site` (of `org`).
    user: String,
}

struct World {
    r: Rig,
    sessions: BTreeMap<&'static str, String>,
    targets: [Target; 3],
    dealer: String,
    counter: AtomicU32,
}

fn unit_id(n: u8) -> UnitId {
    UnitId::from_uuid(uuid::Uuid::from_bytes([0x70 + n; 16]))
}

async fn world() -> World {
    let r = rig();
    let operator = r.org("operator", "Picket Security").await;
    let a = r.org("customer", "Harbour Ltd").await;
    let b = r.org("customer", "Other Co").await;
    let dealer = r.org("dealer", "Fix-It Alarms").await;
    let (status, _, _) = r
        .call(
            "PUT",
            &format!("/api/v1/organisations/{a}/dealers/{dealer}"),
            None,
            Auth::Operator,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let mut sites = Vec::new();
    for (org, name) in [(&a, "Own"), (&a, "Other site"), (&b, "Other org")] {
        let (status, body) = site(&r, org, name, None, Auth::Operator).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        sites.push(body["id"].as_str().unwrap().to_owned());
    }
    // Units come from ingest; give each site one.
    {
        let mut store = Store::open(&r.dir.path().join("hub.db")).unwrap();
        let batch: Vec<Incoming> = (0..3)
            .map(|n| Incoming::Status {
                unit: unit_id(n),
                status: UnitStatus::Online,
            })
            .collect();
        store.commit(&batch, r.clock.now()).unwrap();
    }
    for (n, site) in sites.iter().enumerate() {
        let unit = unit_id(n as u8);
        let (status, _, body) = r
            .call(
                "PUT",
                &format!("/api/v1/units/{unit}/site"),
                Some(json!({ "site": site })),
                Auth::Operator,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // Each unit raises an alarm: one queue item per site.
    let items = [0u8, 1, 2].map(|n| picket_proto::ids::EventId::v7(r.clock.now(), [0x90 + n; 10]));
    {
        let mut store = Store::open(&r.dir.path().join("hub.db")).unwrap();
        let batch: Vec<Incoming> = (0..3)
            .map(|n| Incoming::Event {
                unit: unit_id(n),
                event: picket_proto::message::Event {
                    id: items[usize::from(n)],
                    seq: 1,
                    at: r.clock.now(),
                    kind: picket_proto::message::EventKind::Alarm {
                        sensor: "pir-1".into(),
                        sensor_kind: picket_proto::level::SensorKind::Motion,
                        camera: None,
                        state: picket_proto::arming::ArmState::Armed,
                    },
                },
            })
            .collect();
        store.commit(&batch, r.clock.now()).unwrap();
        assert_eq!(store.open_queue().unwrap().len(), 3);
    }
    let own = json!({ "only": [sites[0]] });
    let mut sessions = BTreeMap::new();
    for role in ROLES {
        let (org, scope) = match role {
            "owner" => (&a, json!("all")),
            "customer_admin" | "site_manager" | "keyholder" | "viewer" => (&a, own.clone()),
            "dealer_admin" | "dealer_technician" => (&dealer, json!("all")),
            _ => (&operator, json!("all")),
        };
        let (cookie, _) = r
            .member(org, &format!("{role}@matrix.example"), role, scope)
            .await;
        sessions.insert(role, cookie);
    }
    // Someone for the users lists to show in the other organisation.
    r.member(&b, "olga@other.example", "owner", json!("all"))
        .await;
    let mut users = Vec::new();
    for (n, (org, site)) in [(&a, &sites[0]), (&a, &sites[1]), (&b, &sites[2])]
        .into_iter()
        .enumerate()
    {
        let (_, id) = r
            .member(
                org,
                &format!("target{n}@matrix.example"),
                "viewer",
                json!({ "only": [site] }),
            )
            .await;
        users.push(id);
    }
    let targets = [0, 1, 2].map(|n| Target {
        org: if n < 2 { a.clone() } else { b.clone() },
        site: sites[n].clone(),
        unit: unit_id(n as u8),
        item: items[n],
        user: users[n].clone(),
    });
    World {
        r,
        sessions,
        targets,
        dealer,
        counter: AtomicU32::new(0),
    }
}

impl World {
    /// Calls `endpoint` on `target` as `role`; 'A' or 'D'.
    async fn outcome(&self, endpoint: &str, role: &str, target: &Target) -> char {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let (
            Target {
                org,
                site,
                unit,
                item,
                user,
            },
            dealer,
        ) = (target, &self.dealer);
        // An exception to remove: the operator sets one first.
        if endpoint == "exception.remove" {
            let (status, _, body) = self
                .r
                .call(
                    "PUT",
                    &format!("/api/v1/sites/{site}/schedule/exceptions/2026-12-24"),
                    Some(json!("disarmed_all_day")),
                    Auth::Operator,
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        // A contact to remove: the operator gives the site two first.
        let contact = if endpoint == "contacts.remove" {
            let (status, _, body) = self
                .r
                .call(
                    "PUT",
                    &format!("/api/v1/sites/{site}/contacts"),
                    Some(json!([
                        { "name": "First", "phone": "+45 1234 5678" },
                        { "name": "Second", "phone": "+45 8765 4321" }
                    ])),
                    Auth::Operator,
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body[0]["id"].as_i64().unwrap()
        } else {
            0
        };
        let (method, path, body): (&str, String, Option<Value>) = match endpoint {
            "schedule.day" => (
                "PUT",
                format!("/api/v1/sites/{site}/schedule/days/friday"),
                Some(json!(["16:00-08:00"])),
            ),
            "schedule.copy" => (
                "POST",
                format!("/api/v1/sites/{site}/schedule/copy-day"),
                Some(json!({ "day": "monday" })),
            ),
            "exception.set" => (
                "PUT",
                format!("/api/v1/sites/{site}/schedule/exceptions/2026-12-31"),
                Some(json!({ "windows": ["14:00-24:00"] })),
            ),
            "exception.remove" => (
                "DELETE",
                format!("/api/v1/sites/{site}/schedule/exceptions/2026-12-24"),
                None,
            ),
            "contacts.get" => ("GET", format!("/api/v1/sites/{site}/contacts"), None),
            "queue.list" => ("GET", "/api/v1/centre/queue".to_owned(), None),
            "overview" => ("GET", "/api/v1/overview".to_owned(), None),
            "transmission" => (
                "GET",
                format!(
                    "/api/v1/transmission?site={site}&from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z"
                ),
                None,
            ),
            "alarms.list" => ("GET", format!("/api/v1/alarms?site={site}"), None),
            "alarms.get" => ("GET", format!("/api/v1/alarms/{item}"), None),
            "times.site" => (
                "GET",
                format!(
                    "/api/v1/response-times?site={site}&from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z"
                ),
                None,
            ),
            "queue.claim" => ("POST", format!("/api/v1/centre/queue/{item}/claim"), None),
            "queue.share" => (
                "POST",
                format!("/api/v1/centre/queue/{item}/share-report"),
                None,
            ),
            "contacts.set" => (
                "PUT",
                format!("/api/v1/sites/{site}/contacts"),
                Some(
                    json!([{ "name": "Night guard", "phone": "+45 2222 3333", "email": "guard@example.com" }]),
                ),
            ),
            "contacts.remove" => (
                "DELETE",
                format!("/api/v1/sites/{site}/contacts/{contact}"),
                None,
            ),
            "report.sends" => ("GET", format!("/api/v1/sites/{site}/report-sends"), None),
            "recipients.get" => (
                "GET",
                format!("/api/v1/sites/{site}/report-recipients"),
                None,
            ),
            "recipients.set" => (
                "PUT",
                format!("/api/v1/sites/{site}/report-recipients"),
                Some(json!([{ "email": "reports@example.com", "daily": true }])),
            ),
            "site.get" => ("GET", format!("/api/v1/sites/{site}"), None),
            "site.schedule" => (
                "PUT",
                format!("/api/v1/sites/{site}/schedule"),
                Some(week()),
            ),
            "site.level" => (
                "PUT",
                format!("/api/v1/sites/{site}/level"),
                Some(json!({ "profile": "high" })),
            ),
            "site.disarm" => (
                "PUT",
                format!("/api/v1/sites/{site}/disarm"),
                Some(json!({ "until": "2026-11-23T18:00:00Z", "by": "matrix" })),
            ),
            "site.undisarm" => ("DELETE", format!("/api/v1/sites/{site}/disarm"), None),
            "org.dealer.list" => (
                "GET",
                format!("/api/v1/organisations/{org}/dealer-access"),
                None,
            ),
            "org.sharing.get" => ("GET", format!("/api/v1/organisations/{org}/sharing"), None),
            "clip.retention" => (
                "PUT",
                format!("/api/v1/sites/{site}/clip-retention"),
                Some(json!({ "days": 14 })),
            ),
            "clip.settings" => (
                "PUT",
                format!("/api/v1/sites/{site}/clip-settings"),
                Some(json!({ "pre_roll_s": 5, "post_roll_s": 10, "max_clip_s": 60 })),
            ),
            "clip.settings.get" => ("GET", format!("/api/v1/sites/{site}/clip-settings"), None),
            "subsite.create" => (
                "POST",
                format!("/api/v1/organisations/{org}/sites"),
                Some(json!({ "name": format!("sub {n}"), "parent": site })),
            ),
            "unit.events" => ("GET", format!("/api/v1/units/{unit}/events"), None),
            "live.token" => (
                "POST",
                format!("/api/v1/units/{unit}/cameras/019abcde00017000800000000000c001/live"),
                None,
            ),
            "unit.claim" => (
                "PUT",
                format!("/api/v1/units/{unit}/site"),
                Some(json!({ "site": site })),
            ),
            "unit.relocate" => (
                "POST",
                format!("/api/v1/units/{unit}/relocation"),
                Some(json!({ "to": "active" })),
            ),
            "unit.relocation" => ("GET", format!("/api/v1/units/{unit}/relocation"), None),
            "unit.reloc.model" => (
                "PUT",
                format!("/api/v1/units/{unit}/relocation-support"),
                Some(json!({ "supported": true })),
            ),
            "org.sites.list" => ("GET", format!("/api/v1/organisations/{org}/sites"), None),
            "org.sites.create" => (
                "POST",
                format!("/api/v1/organisations/{org}/sites"),
                Some(json!({ "name": format!("top {n}") })),
            ),
            "org.users.list" => ("GET", format!("/api/v1/organisations/{org}/users"), None),
            "org.users.invite" => (
                "POST",
                format!("/api/v1/organisations/{org}/users"),
                Some(
                    json!({ "email": format!("new{n}@matrix.example"), "name": "New", "role": "viewer", "scope": { "only": [site] } }),
                ),
            ),
            "org.sharing.set" => (
                "PUT",
                format!("/api/v1/organisations/{org}/sharing"),
                Some(
                    json!({ "incident_reports": true, "response_times": true, "clips": true, "live_view": true }),
                ),
            ),
            "org.audit" => (
                "GET",
                format!("/api/v1/organisations/{org}/audit?limit=1"),
                None,
            ),
            "org.dealer.grant" => (
                "POST",
                format!("/api/v1/organisations/{org}/dealer-access"),
                Some(json!({ "dealer": dealer })),
            ),
            "user.edit" => (
                "PATCH",
                format!("/api/v1/users/{user}"),
                Some(json!({ "name": format!("Renamed {n}") })),
            ),
            "user.revoke" => ("POST", format!("/api/v1/users/{user}/revoke"), None),
            // Lists what the caller may see (possibly nothing): never refused.
            "units.list" => ("GET", "/api/v1/units".to_owned(), None),
            "site.upsert" => (
                "PUT",
                format!("/api/v1/sites/{site}"),
                Some(json!({ "name": format!("renamed {n}"), "schedule": week() })),
            ),
            "org.create" => (
                "POST",
                "/api/v1/organisations".to_owned(),
                Some(json!({ "kind": "customer", "name": format!("new {n}") })),
            ),
            "dealer.request" => (
                "POST",
                format!("/api/v1/organisations/{org}/dealer-access/request"),
                None,
            ),
            other => panic!("no call for {other}"),
        };
        let (status, _, answer) = self
            .r
            .call(method, &path, body, Auth::Cookie(&self.sessions[role]))
            .await;
        match status.as_u16() {
            200..=299 | 409 | 422 => 'A',
            403 | 404 => 'D',
            other => panic!("{endpoint} as {role}: {other} {answer}"),
        }
    }
}

#[tokio::test]
async fn every_endpoint_by_every_role_on_own_other_site_and_other_org() {
    let w = world().await;
    let mut mismatches = Vec::new();
    let mut checked = 0;
    for line in EXPECTED
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .skip(1)
    {
        let mut cells = line.split_whitespace();
        let endpoint = cells.next().unwrap();
        let cells: Vec<&str> = cells.collect();
        assert_eq!(cells.len(), ROLES.len(), "{line}");
        for (role, expected) in ROLES.iter().zip(cells) {
            let mut got = String::new();
            for target in &w.targets {
                got.push(w.outcome(endpoint, role, target).await);
                checked += 1;
            }
            if got != expected {
                mismatches.push(format!(
                    "{endpoint:<17} {role:<18} expected {expected} got {got}"
                ));
            }
        }
    }
    assert!(checked >= 24 * 11 * 3, "{checked} checks");
    assert!(mismatches.is_empty(), "\n{}", mismatches.join("\n"));
    special_cases(&w).await;
}

/// One special case: what, whose session, method, path, body, expected
/// status.
struct Case(
    &'static str,
    String,
    &'static str,
    String,
    Option<Value>,
    u16,
);

/// The cases that are not a role on a target: escalation, dealer access
/// with a grant and after it, revoked and expired sessions. Each row: who,
/// what, and the expected status.
async fn special_cases(w: &World) {
    let r = &w.r;
    let [own, _, _] = &w.targets;
    let a = &own.org;
    let owner_id = body_id(
        &r.call(
            "GET",
            &format!("/api/v1/organisations/{a}/users"),
            None,
            Auth::Operator,
        )
        .await
        .2,
        "owner@matrix.example",
    );
    let admin_id = body_id(
        &r.call(
            "GET",
            &format!("/api/v1/organisations/{a}/users"),
            None,
            Auth::Operator,
        )
        .await
        .2,
        "customer_admin@matrix.example",
    );
    let s = |role: &str| w.sessions[role].clone();
    let schedule = format!("/api/v1/sites/{}/schedule", own.site);
    let grant_path = format!("/api/v1/organisations/{a}/dealer-access");
    let cases = vec![
        // Escalation: a higher role, wider sites, a user above, oneself.
        Case(
            "grant a role above one's own",
            s("customer_admin"),
            "POST",
            format!("/api/v1/organisations/{a}/users"),
            Some(json!({ "email": "up@matrix.example", "name": "Up", "role": "owner" })),
            403,
        ),
        Case(
            "grant sites beyond one's own",
            s("customer_admin"),
            "POST",
            format!("/api/v1/organisations/{a}/users"),
            Some(
                json!({ "email": "wide@matrix.example", "name": "Wide", "role": "viewer", "scope": "all" }),
            ),
            403,
        ),
        Case(
            "widen one's own sites",
            s("customer_admin"),
            "PATCH",
            format!("/api/v1/users/{admin_id}"),
            Some(json!({ "scope": "all" })),
            403,
        ),
        Case(
            "edit a user above oneself",
            s("customer_admin"),
            "PATCH",
            format!("/api/v1/users/{owner_id}"),
            Some(json!({ "role": "viewer" })),
            404,
        ),
        Case(
            "revoke a user above oneself",
            s("customer_admin"),
            "POST",
            format!("/api/v1/users/{owner_id}/revoke"),
            None,
            404,
        ),
        Case(
            "an operator centre operator manages customers' users",
            s("centre_operator"),
            "POST",
            format!("/api/v1/organisations/{a}/users"),
            Some(json!({ "email": "co@matrix.example", "name": "Co", "role": "viewer" })),
            403,
        ),
        // Dealer access (read-only without a grant is in the table above,
        // which ran before the owner's grant in its `org.dealer.grant`
        // row): settings but never users, sharing or the audit log during
        // a grant, then read-only again.
        Case(
            "owner grants the dealer 2 hours",
            s("owner"),
            "POST",
            grant_path.clone(),
            Some(json!({ "dealer": w.dealer })),
            201,
        ),
        Case(
            "dealer with a grant edits the schedule",
            s("dealer_technician"),
            "PUT",
            schedule.clone(),
            Some(week()),
            200,
        ),
        Case(
            "dealer with a grant invites a user (not its organisation: 404)",
            s("dealer_admin"),
            "POST",
            format!("/api/v1/organisations/{a}/users"),
            Some(json!({ "email": "d@matrix.example", "name": "D", "role": "viewer" })),
            404,
        ),
        Case(
            "dealer with a grant changes sharing",
            s("dealer_admin"),
            "PUT",
            format!("/api/v1/organisations/{a}/sharing"),
            Some(
                json!({ "incident_reports": true, "response_times": true, "clips": true, "live_view": true }),
            ),
            403,
        ),
        Case(
            "dealer with a grant reads the audit log",
            s("dealer_admin"),
            "GET",
            format!("/api/v1/organisations/{a}/audit"),
            None,
            403,
        ),
        Case(
            "dealer grants itself access",
            s("dealer_admin"),
            "POST",
            grant_path.clone(),
            Some(json!({ "dealer": w.dealer })),
            403,
        ),
    ];
    let mut mismatches = Vec::new();
    for Case(what, cookie, method, path, body, expected) in cases {
        let (status, _, answer) = r.call(method, &path, body, Auth::Cookie(&cookie)).await;
        if status.as_u16() != expected {
            mismatches.push(format!(
                "{what}: expected {expected}, got {status} {answer}"
            ));
        }
    }
    // Two hours on, the grant has ended: read-only again (fresh sessions;
    // the old ones have expired after inactivity meanwhile).
    r.clock.advance(jiff::SignedDuration::from_hours(2));
    let (status, _, _) = r
        .call("GET", "/api/v1/session", None, Auth::Cookie(&s("viewer")))
        .await;
    if status != StatusCode::UNAUTHORIZED {
        mismatches.push(format!(
            "a session idle for 2 hours: expected 401, got {status}"
        ));
    }
    let tech = r
        .login("dealer_technician@matrix.example", GOOD_PASSWORD)
        .await
        .unwrap();
    let (status, _, _) = r
        .call("PUT", &schedule, Some(week()), Auth::Cookie(&tech))
        .await;
    if status != StatusCode::FORBIDDEN {
        mismatches.push(format!(
            "dealer after the grant ended: expected 403, got {status}"
        ));
    }
    // Revoked: the next request with a live session is refused.
    let viewer = r
        .login("viewer@matrix.example", GOOD_PASSWORD)
        .await
        .unwrap();
    let owner = r
        .login("owner@matrix.example", GOOD_PASSWORD)
        .await
        .unwrap();
    let viewer_id = body_id(
        &r.call(
            "GET",
            &format!("/api/v1/organisations/{a}/users"),
            None,
            Auth::Operator,
        )
        .await
        .2,
        "viewer@matrix.example",
    );
    r.call(
        "POST",
        &format!("/api/v1/users/{viewer_id}/revoke"),
        None,
        Auth::Cookie(&owner),
    )
    .await;
    let (status, _, _) = r
        .call(
            "GET",
            &format!("/api/v1/sites/{}", own.site),
            None,
            Auth::Cookie(&viewer),
        )
        .await;
    if status != StatusCode::UNAUTHORIZED {
        mismatches.push(format!(
            "a revoked user's live session: expected 401, got {status}"
        ));
    }
    assert!(mismatches.is_empty(), "\n{}", mismatches.join("\n"));
}
