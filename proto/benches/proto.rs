//! Benchmarks of the hot paths: encoding and decoding a typical event
//! envelope, and evaluating the arm state with its next change.
//!
//! `cargo bench -p picket-proto`. Targets on a 2-core build machine:
//! decode of an event envelope < 2 µs; evaluate + next change < 10 µs.

#[path = "../tests/support/mod.rs"]
mod support;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use picket_proto::arming::{ArmingInputs, evaluate, next_change};
use picket_proto::codec::{decode, decode_on, encode};
use picket_proto::disarm::TemporaryDisarm;
use picket_proto::level::SecurityLevel;
use picket_proto::message::{Body, Envelope};
use picket_proto::relocation::RelocationState;
use picket_proto::topic::{Topic, TopicKind};

fn codec(c: &mut Criterion) {
    let envelope = Envelope::new(
        support::unit(),
        support::ts("2026-11-22T22:15:03.500Z"),
        Body::Event(support::sample_event()),
    );
    let bytes = encode(&envelope).unwrap();
    let topic = Topic::new(support::unit(), TopicKind::Event);
    let config = support::samples()
        .into_iter()
        .find(|(n, _)| *n == "desired_config")
        .unwrap()
        .1;
    let config_bytes = encode(&config).unwrap();

    let mut g = c.benchmark_group("codec");
    g.bench_function("encode event envelope", |b| {
        b.iter(|| encode(black_box(&envelope)).unwrap())
    });
    g.bench_function("decode event envelope", |b| {
        b.iter(|| decode(black_box(&bytes)).unwrap())
    });
    g.bench_function("decode_on event envelope (with topic checks)", |b| {
        b.iter(|| decode_on(black_box(&topic), black_box(&bytes)).unwrap())
    });
    g.bench_function("decode desired config (validates the schedule)", |b| {
        b.iter(|| decode(black_box(&config_bytes)).unwrap())
    });
    g.finish();
}

fn arming(c: &mut Criterion) {
    let schedule = support::site_schedule();
    let level = SecurityLevel::standard();
    let disarm = TemporaryDisarm::new(
        support::ts("2026-11-23T17:00Z"),
        support::ts("2026-11-23T20:30Z"),
        "Anna Holm (keyholder)",
    )
    .unwrap();
    let plain = ArmingInputs {
        schedule: &schedule,
        level: &level,
        disarm: None,
        relocation: RelocationState::Active,
    };
    let disarmed = ArmingInputs {
        disarm: Some(&disarm),
        ..plain
    };
    // Monday 22:00 CET, armed until Tuesday 07:00.
    let night = support::ts("2026-11-23T21:00Z");
    // Friday 19:00 CET, armed all weekend: the search walks four days.
    let weekend = support::ts("2026-11-27T18:00Z");
    // During the keyholder's disarm.
    let during = support::ts("2026-11-23T19:00Z");

    let mut g = c.benchmark_group("arming");
    g.bench_function("evaluate + next change, weeknight", |b| {
        b.iter(|| evaluate(black_box(&plain), black_box(night)))
    });
    g.bench_function("evaluate + next change, weekend", |b| {
        b.iter(|| evaluate(black_box(&plain), black_box(weekend)))
    });
    g.bench_function("evaluate + next change, during a disarm", |b| {
        b.iter(|| evaluate(black_box(&disarmed), black_box(during)))
    });
    g.bench_function("next change only, weeknight", |b| {
        b.iter(|| next_change(black_box(&plain), black_box(night)))
    });
    g.bench_function("reason in words", |b| {
        let e = evaluate(&plain, night);
        b.iter(|| black_box(&e).to_string())
    });
    g.finish();
}

criterion_group!(benches, codec, arming);
criterion_main!(benches);
