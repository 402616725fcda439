//! One simulated unit's event outbox, kept in memory: the same rules as the
//! agent's SQLite outbox and drain (`agent/src/outbox.rs`), as a pure core
//! that takes the time as an argument.
//!
//! - Every event gets the next sequence number of its unit (1, 2, 3, …).
//! - Events leave in sequence order, at most `max_in_flight` sent and not
//!   acknowledged at a time; the rest wait.
//! - An event sent and not acknowledged within `resend_after` is sent again
//!   (the hub stores it once and acknowledges it again), so a lost ack costs
//!   a delay, never a hang.
//! - A new connection starts over from the oldest unacknowledged event,
//!   because anything in flight on the old connection may be lost.
//! - An acknowledgement removes the event and yields its round-trip time,
//!   measured from when it was *first* sent; acks for unknown ids (repeats)
//!   are counted and otherwise ignored.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use picket_proto::ids::EventId;

/// An event waiting for its acknowledgement.
#[derive(Debug, Clone)]
struct Entry {
    id: EventId,
    seq: u64,
    payload: Vec<u8>,
    first_sent: Option<Instant>,
    last_sent: Option<Instant>,
}

/// One event to publish now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Send {
    /// The event.
    pub id: EventId,
    /// Its sequence number.
    pub seq: u64,
    /// The encoded envelope.
    pub payload: Vec<u8>,
    /// Whether it was sent before (a resend).
    pub resend: bool,
}

/// What an acknowledgement did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Acked {
    /// Round-trip times of the events it removed (first send to ack).
    pub latencies: Vec<Duration>,
    /// Ids it named that were not outstanding (already acknowledged).
    pub unknown: usize,
}

/// The outbox of one unit.
#[derive(Debug)]
pub struct Outbox {
    max_in_flight: usize,
    resend_after: Duration,
    connected: bool,
    last_seq: u64,
    /// Sent on this connection and not acknowledged, in sequence order.
    in_flight: VecDeque<Entry>,
    /// Not sent on this connection yet, in sequence order.
    waiting: VecDeque<Entry>,
}

impl Outbox {
    /// An empty, disconnected outbox. `max_in_flight` is at least 1.
    pub fn new(max_in_flight: usize, resend_after: Duration) -> Outbox {
        Outbox {
            max_in_flight: max_in_flight.max(1),
            resend_after,
            connected: false,
            last_seq: 0,
            in_flight: VecDeque::new(),
            waiting: VecDeque::new(),
        }
    }

    /// The sequence number the next event gets.
    pub fn next_seq(&self) -> u64 {
        self.last_seq + 1
    }

    /// Adds an event with sequence number [`Outbox::next_seq`]; returns it.
    pub fn push(&mut self, id: EventId, payload: Vec<u8>) -> u64 {
        self.last_seq += 1;
        self.waiting.push_back(Entry {
            id,
            seq: self.last_seq,
            payload,
            first_sent: None,
            last_sent: None,
        });
        self.last_seq
    }

    /// Events not acknowledged yet (waiting or in flight).
    pub fn len(&self) -> usize {
        self.in_flight.len() + self.waiting.len()
    }

    /// Whether every event was acknowledged.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Events sent on this connection and not acknowledged.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// A (new) connection is up: start over from the oldest event.
    pub fn connected(&mut self) {
        self.connected = true;
        while let Some(entry) = self.in_flight.pop_back() {
            self.waiting.push_front(entry);
        }
    }

    /// The connection is down: nothing is sent until the next one.
    pub fn disconnected(&mut self) {
        self.connected = false;
    }

    /// What to publish at `now`: overdue events first (resends), then new
    /// ones while the window has room. Everything returned counts as sent
    /// at `now`.
    pub fn due(&mut self, now: Instant) -> Vec<Send> {
        let mut out = Vec::new();
        if !self.connected {
            return out;
        }
        for entry in &mut self.in_flight {
            if entry
                .last_sent
                .is_some_and(|sent| sent + self.resend_after <= now)
            {
                entry.last_sent = Some(now);
                out.push(Send {
                    id: entry.id,
                    seq: entry.seq,
                    payload: entry.payload.clone(),
                    resend: true,
                });
            }
        }
        while self.in_flight.len() < self.max_in_flight {
            let Some(mut entry) = self.waiting.pop_front() else {
                break;
            };
            let resend = entry.first_sent.is_some();
            entry.first_sent.get_or_insert(now);
            entry.last_sent = Some(now);
            out.push(Send {
                id: entry.id,
                seq: entry.seq,
                payload: entry.payload.clone(),
                resend,
            });
            self.in_flight.push_back(entry);
        }
        out
    }

    /// When [`Outbox::due`] next has a resend for us, if anything is in
    /// flight. (New events are due as soon as they are pushed, window
    /// permitting; the caller knows when it pushes or acks.)
    pub fn next_resend(&self) -> Option<Instant> {
        if !self.connected {
            return None;
        }
        self.in_flight
            .iter()
            .filter_map(|e| e.last_sent)
            .min()
            .map(|sent| sent + self.resend_after)
    }

    /// Whether [`Outbox::due`] would return new events now.
    pub fn has_room_and_waiting(&self) -> bool {
        self.connected && !self.waiting.is_empty() && self.in_flight.len() < self.max_in_flight
    }

    /// The hub acknowledged `ids` at `now`.
    pub fn ack(&mut self, ids: &[EventId], now: Instant) -> Acked {
        let mut acked = Acked::default();
        for id in ids {
            let found = match self.in_flight.iter().position(|e| e.id == *id) {
                Some(i) => self.in_flight.remove(i),
                // Acked after a reconnect moved it back to waiting.
                None => match self.waiting.iter().position(|e| e.id == *id) {
                    Some(i) => self.waiting.remove(i),
                    None => None,
                },
            };
            match found {
                Some(entry) => {
                    if let Some(first) = entry.first_sent {
                        acked.latencies.push(now.saturating_duration_since(first));
                    }
                }
                None => acked.unknown += 1,
            }
        }
        acked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> EventId {
        EventId::v7(
            jiff::Timestamp::from_second(1_800_000_000).unwrap(),
            [n; 10],
        )
    }

    fn seqs(sends: &[Send]) -> Vec<u64> {
        sends.iter().map(|s| s.seq).collect()
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// An outbox with events 1..=n pushed.
    fn with_events(n: u8, window: usize) -> Outbox {
        let mut o = Outbox::new(window, Duration::from_secs(10));
        for i in 1..=n {
            assert_eq!(o.next_seq(), u64::from(i));
            assert_eq!(o.push(id(i), vec![i]), u64::from(i));
        }
        o
    }

    #[test]
    fn sequence_numbers_start_at_one_and_increase_by_one() {
        let mut o = Outbox::new(4, Duration::from_secs(10));
        assert_eq!(o.next_seq(), 1);
        assert_eq!(o.push(id(1), vec![]), 1);
        assert_eq!(o.push(id(2), vec![]), 2);
        assert_eq!(o.next_seq(), 3);
        // Acknowledging does not reuse numbers.
        o.connected();
        let t = Instant::now();
        o.due(t);
        o.ack(&[id(1), id(2)], t);
        assert!(o.is_empty());
        assert_eq!(o.push(id(3), vec![]), 3);
    }

    #[test]
    fn nothing_is_sent_while_disconnected() {
        let mut o = with_events(3, 8);
        assert!(o.due(Instant::now()).is_empty());
        assert_eq!(o.next_resend(), None);
        assert!(!o.has_room_and_waiting());
    }

    #[test]
    fn the_window_limits_events_in_flight_and_acks_open_it() {
        let mut o = with_events(5, 2);
        o.connected();
        let t0 = Instant::now();
        let first = o.due(t0);
        assert_eq!(seqs(&first), [1, 2]);
        assert!(first.iter().all(|s| !s.resend));
        assert_eq!(first[0].payload, vec![1]);
        assert!(o.due(t0).is_empty(), "window full");
        assert_eq!(o.len(), 5);
        assert_eq!(o.in_flight(), 2);

        let acked = o.ack(&[id(2)], t0 + ms(7));
        assert_eq!(acked.latencies, [ms(7)]);
        assert_eq!(acked.unknown, 0);
        assert!(o.has_room_and_waiting());
        assert_eq!(seqs(&o.due(t0 + ms(7))), [3]);
        assert_eq!(o.len(), 4);
    }

    #[test]
    fn an_unacknowledged_event_is_resent_after_the_timeout_and_timed_from_its_first_send() {
        let mut o = Outbox::new(4, Duration::from_secs(10));
        o.push(id(1), vec![1]);
        o.connected();
        let t0 = Instant::now();
        assert_eq!(seqs(&o.due(t0)), [1]);
        assert_eq!(o.next_resend(), Some(t0 + Duration::from_secs(10)));
        assert!(o.due(t0 + ms(9_999)).is_empty());
        let again = o.due(t0 + ms(10_000));
        assert_eq!(seqs(&again), [1]);
        assert!(again[0].resend);
        assert_eq!(o.next_resend(), Some(t0 + ms(20_000)));
        // The ack of either copy counts from the first send; a second ack
        // for the same event is a repeat.
        let acked = o.ack(&[id(1)], t0 + ms(10_050));
        assert_eq!(acked.latencies, [ms(10_050)]);
        assert_eq!(o.ack(&[id(1)], t0 + ms(10_060)).unknown, 1);
        assert_eq!(o.next_resend(), None);
    }

    #[test]
    fn resends_come_before_new_events_and_do_not_take_extra_window() {
        let mut o = with_events(3, 2);
        o.connected();
        let t0 = Instant::now();
        assert_eq!(seqs(&o.due(t0)), [1, 2]);
        o.ack(&[id(2)], t0 + ms(1));
        assert_eq!(seqs(&o.due(t0 + ms(1))), [3]);
        // 1 and 3 in flight; 1 is overdue first.
        let later = o.due(t0 + Duration::from_secs(10));
        assert_eq!(seqs(&later), [1]);
        assert!(later[0].resend);
        assert_eq!(o.in_flight(), 2);
    }

    #[test]
    fn a_new_connection_starts_over_from_the_oldest_event() {
        let mut o = with_events(4, 2);
        o.connected();
        let t0 = Instant::now();
        assert_eq!(seqs(&o.due(t0)), [1, 2]);
        o.disconnected();
        assert!(o.due(t0 + ms(1)).is_empty());
        o.connected();
        let again = o.due(t0 + ms(500));
        assert_eq!(seqs(&again), [1, 2]);
        assert!(again.iter().all(|s| s.resend));
        // Latency still counts from the first send on the old connection.
        assert_eq!(o.ack(&[id(1)], t0 + ms(600)).latencies, [ms(600)]);
        let rest = o.due(t0 + ms(600));
        assert_eq!(seqs(&rest), [3]);
        assert!(!rest[0].resend);
    }

    #[test]
    fn a_late_ack_for_an_event_moved_back_to_waiting_still_counts() {
        let mut o = with_events(2, 1);
        o.connected();
        let t0 = Instant::now();
        assert_eq!(seqs(&o.due(t0)), [1]);
        o.disconnected();
        o.connected(); // 1 goes back to waiting
        let acked = o.ack(&[id(1)], t0 + ms(3));
        assert_eq!(acked.latencies, [ms(3)]);
        assert_eq!(seqs(&o.due(t0 + ms(3))), [2]);
    }

    #[test]
    fn acks_for_events_never_sent_here_are_unknown() {
        let mut o = with_events(1, 1);
        o.connected();
        let acked = o.ack(&[id(9), id(8)], Instant::now());
        assert_eq!(acked.unknown, 2);
        assert!(acked.latencies.is_empty());
        assert_eq!(o.len(), 1);
    }

    #[test]
    fn a_zero_window_still_sends_one() {
        let mut o = with_events(2, 0);
        o.connected();
        assert_eq!(seqs(&o.due(Instant::now())), [1]);
    }
}
