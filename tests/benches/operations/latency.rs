//! Part A: the read endpoints people open every day, timed as whole
//! requests to the real router on loopback over the filled store.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use picket_hub::clock::SystemClock;
use picket_hub::store::Store;

use super::OPERATOR_TOKEN;
use super::fill::{DAYS, World};
use super::http::{request, sign_in, time_requests};

/// Serves `store` on loopback and prints one line per figure.
pub(crate) fn requests(world: &World, store: Store) {
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

    let owner = sign_in(addr, &world.owner);
    let admin = sign_in(addr, &world.admin);
    let centre = sign_in(addr, &world.centre);
    // Whole seconds read better in a query string.
    let second = |t: Timestamp| {
        Timestamp::from_second(t.as_second()).expect("a whole second is a valid instant")
    };
    let to = second(Timestamp::now());
    let month = second(world.end - SignedDuration::from_hours(24 * DAYS));
    let week = second(world.end - SignedDuration::from_hours(24 * 7));
    let site = world.customers[0].sites[0];

    let figures: [(&str, String, &str, &str); 9] = [
        (
            "a1",
            "/api/v1/alarms?limit=100".into(),
            &owner,
            "customer 0's owner (10 of 990 sites)",
        ),
        (
            "a2",
            "/api/v1/alarms?limit=100".into(),
            &admin,
            "the operator admin (all 990 sites)",
        ),
        (
            "a3",
            format!("/api/v1/alarms?site={site}&status=handled&limit=100"),
            &owner,
            "customer 0's owner, one site, handled only",
        ),
        (
            "a4",
            "/api/v1/centre/queue".into(),
            &centre,
            "a centre operator",
        ),
        (
            "a5",
            format!("/api/v1/response-times?from={month}&to={to}"),
            &owner,
            "customer 0's owner, 30 days, per site and overall",
        ),
        (
            "a6",
            format!("/api/v1/response-times?from={month}&to={to}&site={site}"),
            &owner,
            "customer 0's owner, 30 days, one site",
        ),
        (
            "a7",
            format!("/api/v1/transmission?from={week}&to={to}"),
            &admin,
            "the operator admin, 7 days, every unit",
        ),
        (
            "a10",
            "/api/v1/fleet".into(),
            &centre,
            "a centre operator (summary of 10,000 units, first page of 200)",
        ),
        (
            "a11",
            "/api/v1/fleet?problem=offline".into(),
            &centre,
            "a centre operator, offline units only",
        ),
    ];
    for (label, path, headers, who) in &figures {
        match time_requests(addr, path, headers) {
            Ok(run) => println!("{label}. GET {path} as {who}: {}", run.describe()),
            Err(e) => println!("{label}. GET {path} as {who}: FAILED: {e}"),
        }
    }
    overview(addr, &owner, &admin);

    let _ = stop_tx.send(());
    let _ = runtime.block_on(async { tokio::time::timeout(Duration::from_secs(5), server).await });
    runtime.shutdown_timeout(Duration::from_secs(5));
}

/// a8/a9: `GET /api/v1/overview`, if this hub has it.
fn overview(addr: SocketAddr, owner: &str, admin: &str) {
    let path = "/api/v1/overview";
    match request(addr, "GET", path, owner, "") {
        Ok(r) if r.status == 404 && r.json().is_none() => {
            println!("a8/a9. overview: not available yet (404)");
            return;
        }
        Ok(_) => {}
        Err(e) => {
            println!("a8/a9. overview: FAILED: {e}");
            return;
        }
    }
    for (label, headers, who) in [
        ("a8", owner, "customer 0's owner"),
        ("a9", admin, "the operator admin"),
    ] {
        match time_requests(addr, path, headers) {
            Ok(run) => println!("{label}. GET {path} as {who}: {}", run.describe()),
            Err(e) => println!("{label}. GET {path} as {who}: FAILED: {e}"),
        }
    }
}
