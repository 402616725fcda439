//! Response and handling times, percentiles and summaries, with fixed
//! timestamps.

use jiff::{SignedDuration, Timestamp};
use picket_proto::ids::{EventId, SiteId, UnitId, UserId};
use uuid::Uuid;

use super::*;
use crate::centre::queue::{ItemKind, Outcome};

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + second).unwrap()
}

fn secs(n: i64) -> SignedDuration {
    SignedDuration::from_secs(n)
}

fn operator() -> UserId {
    UserId::from_uuid(Uuid::from_u128(7))
}

fn waiting(n: u128, received: i64) -> Item {
    Item::new(
        EventId::from_uuid(Uuid::from_u128(n)),
        ItemKind::Alarm,
        SiteId::from_uuid(Uuid::from_u128(0x2000)),
        UnitId::from_uuid(Uuid::from_u128(0x3000)),
        3,
        at(received),
    )
}

/// Received at `received`, claimed at once, acknowledged `response` s
/// later, handled `handling` s after that (if given).
fn timed(n: u128, received: i64, response: i64, handling: Option<i64>) -> Item {
    let mut it = waiting(n, received);
    it.claim(operator(), at(received), None).unwrap();
    it.acknowledge(operator(), at(received + response)).unwrap();
    if let Some(handling) = handling {
        it.handle(
            operator(),
            at(received + response + handling),
            Outcome::FalseAlarm,
            "",
        )
        .unwrap();
    }
    it
}

#[test]
fn times_appear_as_the_item_moves_on() {
    let mut it = waiting(1, 0);
    assert_eq!((it.response_time(), it.handling_time()), (None, None));
    it.claim(operator(), at(4), None).unwrap();
    assert_eq!((it.response_time(), it.handling_time()), (None, None));
    it.acknowledge(operator(), at(10)).unwrap();
    assert_eq!(
        (it.response_time(), it.handling_time()),
        (Some(secs(10)), None)
    );
    it.handle(operator(), at(75), Outcome::Intruder, "")
        .unwrap();
    assert_eq!(
        (it.response_time(), it.handling_time()),
        (Some(secs(10)), Some(secs(65)))
    );
}

#[test]
fn percentiles_of_one_to_ten_seconds() {
    let mut durations: Vec<_> = (1..=10).map(secs).collect();
    assert_eq!(
        percentiles(&mut durations),
        Some(Percentiles {
            count: 10,
            median: secs(5),
            p90: secs(9),
        })
    );
}

#[test]
fn percentiles_of_a_single_value_are_that_value() {
    assert_eq!(
        percentiles(&mut [secs(42)]),
        Some(Percentiles {
            count: 1,
            median: secs(42),
            p90: secs(42),
        })
    );
}

#[test]
fn percentiles_of_nothing_are_none() {
    assert_eq!(percentiles(&mut []), None);
}

#[test]
fn percentiles_sort_unsorted_input() {
    let mut durations = [7, 1, 10, 3, 9, 2, 8, 5, 4, 6].map(secs);
    let p = percentiles(&mut durations).unwrap();
    assert_eq!((p.median, p.p90), (secs(5), secs(9)));
    assert_eq!(durations, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(secs));
}

#[test]
fn percentiles_by_nearest_rank_table() {
    // (inputs 1..=n seconds, median, p90): rank ⌈p/100 × n⌉.
    let cases = [
        (2, 1, 2),
        (3, 2, 3),
        (4, 2, 4),
        (5, 3, 5),
        (11, 6, 10),
        (20, 10, 18),
        (100, 50, 90),
        (101, 51, 91),
        (250, 125, 225),
    ];
    for (n, median, p90) in cases {
        let mut durations: Vec<_> = (1..=n).map(secs).collect();
        let p = percentiles(&mut durations).unwrap();
        assert_eq!(
            (p.count, p.median, p.p90),
            (usize::try_from(n).unwrap(), secs(median), secs(p90)),
            "n = {n}"
        );
    }
}

#[test]
fn summarise_counts_items_received_from_inclusive_to_exclusive() {
    let items = [
        timed(1, 99, 100, Some(1_000)), // before the window
        timed(2, 100, 1, Some(10)),     // at `from`: counted
        timed(3, 150, 3, Some(30)),
        timed(4, 199, 2, Some(20)),      // last second inside
        timed(5, 200, 500, Some(5_000)), // at `to`: not counted
    ];
    let summary = summarise(&items, at(100), at(200));
    assert_eq!(
        summary,
        TimesSummary {
            response: Some(Percentiles {
                count: 3,
                median: secs(2),
                p90: secs(3),
            }),
            handling: Some(Percentiles {
                count: 3,
                median: secs(20),
                p90: secs(30),
            }),
        }
    );
}

#[test]
fn summarise_counts_unfinished_items_for_what_they_have() {
    let items = [
        waiting(1, 0),
        timed(2, 1, 4, None),
        timed(3, 2, 6, Some(60)),
    ];
    let summary = summarise(&items, at(0), at(10));
    assert_eq!(summary.response.map(|p| p.count), Some(2));
    assert_eq!(summary.response.map(|p| p.p90), Some(secs(6)));
    assert_eq!(summary.handling.map(|p| p.count), Some(1));
    assert_eq!(summary.handling.map(|p| p.median), Some(secs(60)));
}

#[test]
fn summarise_of_an_empty_window_is_all_none() {
    let items = [timed(1, 50, 1, Some(1))];
    assert_eq!(
        summarise(&items, at(0), at(50)),
        TimesSummary {
            response: None,
            handling: None,
        }
    );
}
