//! Queue item lifecycle, ordering, escalation and priority, in simulated
//! time.

use super::*;
use uuid::Uuid;

pub(crate) fn at(second: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + second).unwrap()
}

pub(crate) fn event(n: u128) -> EventId {
    EventId::from_uuid(Uuid::from_u128(n))
}

pub(crate) fn user(n: u128) -> UserId {
    UserId::from_uuid(Uuid::from_u128(0x1000 + n))
}

pub(crate) fn item(n: u128, priority: u8, received: i64) -> Item {
    Item::new(
        event(n),
        ItemKind::Alarm,
        SiteId::from_uuid(Uuid::from_u128(0x2000)),
        UnitId::from_uuid(Uuid::from_u128(0x3000)),
        priority,
        at(received),
    )
}

const ANN: u128 = 1;
const BOB: u128 = 2;

fn claimed(by: u128, when: i64) -> Item {
    let mut it = item(1, 3, 0);
    it.claim(user(by), at(when), None).unwrap();
    it
}

fn acknowledged(by: u128, claim: i64, ack: i64) -> Item {
    let mut it = claimed(by, claim);
    it.acknowledge(user(by), at(ack)).unwrap();
    it
}

fn handled(by: u128) -> Item {
    let mut it = acknowledged(by, 10, 20);
    it.handle(user(by), at(30), Outcome::FalseAlarm, "cat")
        .unwrap();
    it
}

/// Runs `step` and asserts it fails with `expected` and leaves the item as
/// it was.
fn refused(
    mut it: Item,
    expected: QueueError,
    step: impl FnOnce(&mut Item) -> Result<(), QueueError>,
) {
    let before = it.clone();
    assert_eq!(step(&mut it), Err(expected));
    assert_eq!(it, before, "a refused step changed the item");
}

// ---- claim ----

#[test]
fn claim_takes_a_waiting_item() {
    let mut it = item(1, 3, 0);
    it.claim(user(ANN), at(5), None).unwrap();
    assert_eq!(
        it.status,
        Status::Claimed {
            by: user(ANN),
            at: at(5)
        }
    );
}

#[test]
fn claim_at_the_receipt_instant_is_allowed() {
    let mut it = item(1, 3, 0);
    assert_eq!(it.claim(user(ANN), at(0), None), Ok(()));
}

#[test]
fn claim_of_someone_elses_item_names_the_holder() {
    let err = QueueError::AlreadyClaimed { by: user(ANN) };
    refused(claimed(ANN, 5), err.clone(), |it| {
        it.claim(user(BOB), at(6), None)
    });
    refused(acknowledged(ANN, 5, 6), err, |it| {
        it.claim(user(BOB), at(7), None)
    });
    let message = QueueError::AlreadyClaimed { by: user(ANN) }.to_string();
    assert!(message.contains(&user(ANN).to_string()), "{message}");
}

#[test]
fn claim_of_own_claimed_item_is_refused() {
    refused(
        claimed(ANN, 5),
        QueueError::AlreadyClaimed { by: user(ANN) },
        |it| it.claim(user(ANN), at(6), Some(event(1))),
    );
}

#[test]
fn claim_of_a_handled_item_is_wrong_status() {
    refused(
        handled(ANN),
        QueueError::WrongStatus {
            expected: Stage::Waiting,
            found: Stage::Handled,
        },
        |it| it.claim(user(BOB), at(40), None),
    );
}

#[test]
fn claim_while_holding_another_item_is_refused() {
    refused(
        item(2, 3, 0),
        QueueError::AlreadyHolding { item: event(1) },
        |it| it.claim(user(ANN), at(5), Some(event(1))),
    );
}

#[test]
fn claim_before_receipt_is_time_before_previous() {
    refused(
        item(1, 3, 10),
        QueueError::TimeBeforePrevious {
            at: at(9),
            previous: at(10),
        },
        |it| it.claim(user(ANN), at(9), None),
    );
}

#[test]
fn one_claim_per_operator_through_held_by() {
    let mut items = vec![item(1, 3, 0), item(2, 3, 1), item(3, 3, 2)];
    assert_eq!(held_by(&items, user(ANN)), None);

    let holds = held_by(&items, user(ANN));
    items[0].claim(user(ANN), at(10), holds).unwrap();
    assert_eq!(held_by(&items, user(ANN)), Some(event(1)));

    let holds = held_by(&items, user(ANN));
    assert_eq!(
        items[1].claim(user(ANN), at(11), holds),
        Err(QueueError::AlreadyHolding { item: event(1) })
    );
    // Another operator is not affected.
    let holds = held_by(&items, user(BOB));
    items[1].claim(user(BOB), at(11), holds).unwrap();
    assert_eq!(held_by(&items, user(BOB)), Some(event(2)));

    // Still held once acknowledged; free again once handled.
    items[0].acknowledge(user(ANN), at(12)).unwrap();
    assert_eq!(held_by(&items, user(ANN)), Some(event(1)));
    items[0]
        .handle(user(ANN), at(13), Outcome::Intruder, "")
        .unwrap();
    assert_eq!(held_by(&items, user(ANN)), None);
    let holds = held_by(&items, user(ANN));
    items[2].claim(user(ANN), at(14), holds).unwrap();
    assert_eq!(held_by(&items, user(ANN)), Some(event(3)));
}

// ---- release ----

#[test]
fn release_returns_a_claimed_item_to_waiting() {
    let mut it = claimed(ANN, 5);
    it.release(user(ANN)).unwrap();
    assert_eq!(it.status, Status::Waiting);
    assert_eq!(held_by(&[it], user(ANN)), None);
}

#[test]
fn release_by_another_operator_is_refused() {
    let err = QueueError::NotClaimant {
        claimant: user(ANN),
    };
    refused(claimed(ANN, 5), err.clone(), |it| it.release(user(BOB)));
    refused(acknowledged(ANN, 5, 6), err, |it| it.release(user(BOB)));
}

#[test]
fn release_after_acknowledging_is_wrong_status() {
    refused(
        acknowledged(ANN, 5, 6),
        QueueError::WrongStatus {
            expected: Stage::Claimed,
            found: Stage::Acknowledged,
        },
        |it| it.release(user(ANN)),
    );
}

#[test]
fn release_of_waiting_or_handled_is_wrong_status() {
    let wrong = |found| QueueError::WrongStatus {
        expected: Stage::Claimed,
        found,
    };
    refused(item(1, 3, 0), wrong(Stage::Waiting), |it| {
        it.release(user(ANN))
    });
    refused(handled(ANN), wrong(Stage::Handled), |it| {
        it.release(user(ANN))
    });
}

// ---- acknowledge ----

#[test]
fn acknowledge_keeps_the_claim_instant() {
    let mut it = claimed(ANN, 5);
    it.acknowledge(user(ANN), at(8)).unwrap();
    assert_eq!(
        it.status,
        Status::Acknowledged {
            by: user(ANN),
            claimed_at: at(5),
            at: at(8)
        }
    );
}

#[test]
fn acknowledge_at_the_claim_instant_is_allowed() {
    let mut it = claimed(ANN, 5);
    assert_eq!(it.acknowledge(user(ANN), at(5)), Ok(()));
}

#[test]
fn acknowledge_by_another_operator_is_refused() {
    refused(
        claimed(ANN, 5),
        QueueError::NotClaimant {
            claimant: user(ANN),
        },
        |it| it.acknowledge(user(BOB), at(6)),
    );
}

#[test]
fn acknowledge_twice_or_unclaimed_is_wrong_status() {
    let wrong = |found| QueueError::WrongStatus {
        expected: Stage::Claimed,
        found,
    };
    refused(acknowledged(ANN, 5, 6), wrong(Stage::Acknowledged), |it| {
        it.acknowledge(user(ANN), at(7))
    });
    refused(item(1, 3, 0), wrong(Stage::Waiting), |it| {
        it.acknowledge(user(ANN), at(7))
    });
    refused(handled(ANN), wrong(Stage::Handled), |it| {
        it.acknowledge(user(ANN), at(40))
    });
}

#[test]
fn acknowledge_before_the_claim_is_time_before_previous() {
    refused(
        claimed(ANN, 5),
        QueueError::TimeBeforePrevious {
            at: at(4),
            previous: at(5),
        },
        |it| it.acknowledge(user(ANN), at(4)),
    );
}

// ---- handle ----

#[test]
fn handle_records_outcome_trimmed_notes_and_all_instants() {
    let mut it = acknowledged(ANN, 5, 8);
    it.handle(
        user(ANN),
        at(20),
        Outcome::GuardDispatched,
        "  fence cut \n",
    )
    .unwrap();
    assert_eq!(
        it.status,
        Status::Handled {
            by: user(ANN),
            claimed_at: at(5),
            acknowledged_at: at(8),
            at: at(20),
            outcome: Outcome::GuardDispatched,
            notes: "fence cut".into(),
            shared_at: None,
        }
    );
    assert!(it.is_handled());
}

#[test]
fn handle_by_another_operator_is_refused() {
    refused(
        acknowledged(ANN, 5, 6),
        QueueError::NotClaimant {
            claimant: user(ANN),
        },
        |it| it.handle(user(BOB), at(7), Outcome::FalseAlarm, ""),
    );
}

#[test]
fn handle_before_acknowledging_or_twice_is_wrong_status() {
    let wrong = |found| QueueError::WrongStatus {
        expected: Stage::Acknowledged,
        found,
    };
    refused(claimed(ANN, 5), wrong(Stage::Claimed), |it| {
        it.handle(user(ANN), at(6), Outcome::FalseAlarm, "")
    });
    refused(item(1, 3, 0), wrong(Stage::Waiting), |it| {
        it.handle(user(ANN), at(6), Outcome::FalseAlarm, "")
    });
    refused(handled(ANN), wrong(Stage::Handled), |it| {
        it.handle(user(ANN), at(40), Outcome::FalseAlarm, "")
    });
}

#[test]
fn handle_before_the_acknowledgement_is_time_before_previous() {
    refused(
        acknowledged(ANN, 5, 8),
        QueueError::TimeBeforePrevious {
            at: at(7),
            previous: at(8),
        },
        |it| it.handle(user(ANN), at(7), Outcome::FalseAlarm, ""),
    );
}

#[test]
fn notes_limit_counts_characters_after_trimming() {
    // Exactly at the limit, in multi-byte characters and padded: accepted.
    let at_limit = format!("  {}  ", "é".repeat(MAX_NOTES_CHARS));
    let mut it = acknowledged(ANN, 5, 8);
    it.handle(user(ANN), at(9), Outcome::Technical, &at_limit)
        .unwrap();
    let Status::Handled { notes, .. } = &it.status else {
        panic!("not handled: {:?}", it.status);
    };
    assert_eq!(notes.chars().count(), MAX_NOTES_CHARS);

    // One over: refused, naming the length and the limit.
    let over = "x".repeat(MAX_NOTES_CHARS + 1);
    let err = QueueError::NotesTooLong {
        len: MAX_NOTES_CHARS + 1,
        max: MAX_NOTES_CHARS,
    };
    assert!(err.to_string().contains("4000"), "{err}");
    refused(acknowledged(ANN, 5, 8), err, |it| {
        it.handle(user(ANN), at(9), Outcome::Technical, &over)
    });
}

#[test]
fn outcomes_have_labels_and_snake_case_names() {
    let cases = [
        (Outcome::FalseAlarm, "False alarm", "\"false_alarm\""),
        (Outcome::Intruder, "Intruder", "\"intruder\""),
        (
            Outcome::GuardDispatched,
            "Guard dispatched",
            "\"guard_dispatched\"",
        ),
        (Outcome::PoliceCalled, "Police called", "\"police_called\""),
        (Outcome::Technical, "Technical fault", "\"technical\""),
    ];
    for (outcome, label, json) in cases {
        assert_eq!(outcome.label(), label);
        assert_eq!(serde_json::to_string(&outcome).unwrap(), json);
    }
    assert_eq!(
        serde_json::to_string(&ItemKind::Offline).unwrap(),
        "\"offline\""
    );
}

#[test]
fn a_handled_item_round_trips_through_json() {
    let it = handled(ANN);
    let json = serde_json::to_string(&it).unwrap();
    assert!(json.contains("\"state\":\"handled\""), "{json}");
    assert_eq!(serde_json::from_str::<Item>(&json).unwrap(), it);
}

// ---- ordering ----

#[test]
fn open_queue_orders_by_priority_then_age_then_id_and_skips_handled() {
    let mut done = item(9, 1, 0);
    done.status = handled(ANN).status;
    let items = vec![
        item(5, 2, 10),
        item(4, 1, 20),
        done,
        item(3, 1, 10),
        item(2, 2, 10), // same priority and age as 5: the id decides
        item(1, 3, 0),
    ];
    let order: Vec<EventId> = open_queue(&items).iter().map(|it| it.id).collect();
    assert_eq!(order, [event(3), event(4), event(2), event(5), event(1)]);
}

#[test]
fn queue_order_is_equal_only_for_the_same_item() {
    assert_eq!(queue_order(&item(1, 2, 5), &item(1, 2, 5)), Ordering::Equal);
    assert_eq!(queue_order(&item(1, 2, 5), &item(2, 2, 5)), Ordering::Less);
    assert_eq!(queue_order(&item(2, 2, 5), &item(1, 2, 6)), Ordering::Less);
    assert_eq!(queue_order(&item(9, 1, 9), &item(1, 2, 0)), Ordering::Less);
}

// ---- escalation ----

const ESCALATE: SignedDuration = SignedDuration::from_secs(120);

#[test]
fn escalation_boundaries() {
    let it = item(1, 3, 0);
    let nano = SignedDuration::from_nanos(1);
    assert!(!it.escalated(at(120) - nano, ESCALATE));
    assert!(it.escalated(at(120), ESCALATE));
    assert!(it.escalated(at(121), ESCALATE));
}

#[test]
fn claimed_items_still_escalate_acknowledged_ones_do_not() {
    assert!(claimed(ANN, 5).escalated(at(200), ESCALATE));
    assert!(!acknowledged(ANN, 5, 6).escalated(at(200), ESCALATE));
    assert!(!handled(ANN).escalated(at(200), ESCALATE));
}

#[test]
fn next_escalation_is_the_earliest_pending_one() {
    let items = vec![
        item(1, 3, 0),           // escalates at 120: already past at 150
        item(2, 3, 100),         // escalates at 220
        item(3, 3, 50),          // escalates at 170
        acknowledged(ANN, 5, 6), // received 0; never escalates
        item(4, 3, 40),          // claimed below: still escalates at 160
    ];
    let mut items = items;
    items[4].claim(user(BOB), at(41), None).unwrap();
    assert_eq!(next_escalation(&items, ESCALATE, at(150)), Some(at(160)));
    // Exactly at an escalation instant that item has escalated: next one.
    assert_eq!(next_escalation(&items, ESCALATE, at(160)), Some(at(170)));
    assert_eq!(next_escalation(&items, ESCALATE, at(220)), None);
    assert_eq!(next_escalation(&[], ESCALATE, at(0)), None);
}

#[test]
fn next_escalation_skips_instants_beyond_the_representable_range() {
    let mut far = item(1, 3, 0);
    far.received_at = Timestamp::MAX;
    assert_eq!(next_escalation(&[far], ESCALATE, at(0)), None);
}

// ---- priority ----

#[test]
fn priority_for_each_kind() {
    let mut level = SecurityLevel::standard();
    let cases = [
        (3, ItemKind::Alarm, 3),
        (3, ItemKind::Tamper, 3),
        (3, ItemKind::Offline, 4),
    ];
    for (level_priority, kind, expected) in cases {
        level.centre_priority = level_priority;
        assert_eq!(priority_for(&level, kind), expected, "{kind:?}");
    }
    level.centre_priority = 255;
    assert_eq!(priority_for(&level, ItemKind::Offline), 255);
}

#[test]
fn a_handled_report_awaits_review_until_shared_once() {
    let mut it = acknowledged(ANN, 5, 8);
    it.handle(user(ANN), at(20), Outcome::Intruder, "police came")
        .unwrap();
    assert!(matches!(
        it.status,
        Status::Handled {
            shared_at: None,
            ..
        }
    ));
    assert!(matches!(
        it.share_report(at(19)),
        Err(QueueError::TimeBeforePrevious { .. })
    ));
    it.share_report(at(60)).unwrap();
    assert!(matches!(
        it.status,
        Status::Handled {
            shared_at: Some(t),
            ..
        } if t == at(60)
    ));
    assert_eq!(
        it.share_report(at(70)),
        Err(QueueError::AlreadyShared { at: at(60) })
    );
}

#[test]
fn only_a_handled_item_has_a_report_to_share() {
    for mut it in [item(1, 3, 0), claimed(ANN, 5), acknowledged(ANN, 5, 8)] {
        let before = it.clone();
        assert!(matches!(
            it.share_report(at(30)),
            Err(QueueError::WrongStatus {
                expected: Stage::Handled,
                ..
            })
        ));
        assert_eq!(it, before, "nothing changed");
    }
}

#[test]
fn a_report_stored_before_review_existed_reads_as_awaiting_review() {
    let old = r#"{"state":"handled","by":"00000000-0000-0000-0000-000000000001","claimed_at":"2026-01-01T00:00:00Z","acknowledged_at":"2026-01-01T00:00:01Z","at":"2026-01-01T00:00:02Z","outcome":"false_alarm","notes":""}"#;
    let status: Status = serde_json::from_str(old).unwrap();
    assert!(matches!(
        status,
        Status::Handled {
            shared_at: None,
            ..
        }
    ));
}

fn activation_request() -> Item {
    let mut it = item(7, 5, 0);
    it.kind = ItemKind::Activation;
    it
}

#[test]
fn an_activation_request_is_decided_from_the_claim_and_only_as_activated_or_rejected() {
    let mut it = activation_request();
    it.claim(user(ANN), at(10), None).unwrap();
    for outcome in [Outcome::FalseAlarm, Outcome::Intruder, Outcome::Technical] {
        assert_eq!(
            it.clone().handle(user(ANN), at(20), outcome, "x"),
            Err(QueueError::OutcomeDoesNotFit {
                kind: ItemKind::Activation,
                outcome
            })
        );
    }
    assert_eq!(
        it.clone()
            .handle(user(ANN), at(20), Outcome::Rejected, " \n"),
        Err(QueueError::ReasonRequired)
    );
    assert!(matches!(
        it.clone().handle(user(BOB), at(20), Outcome::Activated, ""),
        Err(QueueError::NotClaimant { .. })
    ));
    it.handle(user(ANN), at(20), Outcome::Activated, "")
        .unwrap();
    assert!(matches!(
        it.status,
        Status::Handled {
            claimed_at,
            acknowledged_at,
            at: done,
            outcome: Outcome::Activated,
            ..
        } if claimed_at == at(10) && acknowledged_at == at(20) && done == at(20)
    ));
}

#[test]
fn an_alarm_cannot_be_closed_as_an_activation_decision() {
    let mut it = acknowledged(ANN, 5, 8);
    for outcome in [Outcome::Activated, Outcome::Rejected] {
        assert!(matches!(
            it.handle(user(ANN), at(20), outcome, "reason"),
            Err(QueueError::OutcomeDoesNotFit { .. })
        ));
    }
    let mut claimed_only = claimed(ANN, 5);
    assert!(
        matches!(
            claimed_only.handle(user(ANN), at(20), Outcome::FalseAlarm, ""),
            Err(QueueError::WrongStatus { .. })
        ),
        "an alarm is acknowledged before it is handled"
    );
}

#[test]
fn activation_requests_are_two_steps_less_urgent_than_the_sites_alarms() {
    let level = SecurityLevel::standard();
    assert_eq!(
        priority_for(&level, ItemKind::Activation),
        level.centre_priority + 2
    );
}
