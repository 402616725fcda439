//! Queue items and their lifecycle.
//!
//! An item is raised by an alarm, a tamper or a unit going offline and then
//! moves forward only: `Waiting` → `Claimed` → `Acknowledged` → `Handled`,
//! with one way back (the claimant may release a claimed item before
//! acknowledging it). Each step is a method that checks everything first and
//! changes the item only when it succeeds, so an error never leaves an item
//! half-changed. Every instant is an argument; a step dated before the
//! previous one is refused rather than recorded out of order.
//!
//! **Invariant:** an operator holds (has claimed and not yet handled) at most
//! one item. The item does not know about its neighbours, so the caller looks
//! up what the operator holds with [`held_by`] and passes it to
//! [`Item::claim`].

use std::cmp::Ordering;
use std::fmt;

use jiff::{SignedDuration, Timestamp};
use picket_proto::ids::{EventId, SiteId, UnitId, UserId};
use picket_proto::level::SecurityLevel;
use picket_proto::position::Position;
use serde::{Deserialize, Serialize};

/// The longest notes an operator may leave when handling an item, in
/// characters (Unicode scalar values) after trimming.
pub const MAX_NOTES_CHARS: usize = 4_000;

/// What raised a queue item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// An armed sensor raised an alarm.
    Alarm,
    /// A unit's enclosure was opened (debounced, see [`super::debounce`]).
    Tamper,
    /// A unit stopped reporting (debounced, see [`super::debounce`]).
    Offline,
    /// A relocated unit stands in its new place; its customer asks the
    /// centre to check it and activate monitoring again.
    Activation,
}

/// How an operator concluded an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Nothing was wrong (an animal, wind, a keyholder who forgot to disarm).
    FalseAlarm,
    /// Someone was there who should not have been; dealt with by the warnings.
    Intruder,
    /// A guard was sent to the site.
    GuardDispatched,
    /// The police were called.
    PoliceCalled,
    /// A fault with the equipment rather than an event on site.
    Technical,
    /// An activation request: checked, monitoring resumes.
    Activated,
    /// An activation request: the views or health are not right; the unit
    /// goes back to relocating (the notes say why).
    Rejected,
}

impl Outcome {
    /// The outcome as shown to people.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::FalseAlarm => "False alarm",
            Outcome::Intruder => "Intruder",
            Outcome::GuardDispatched => "Guard dispatched",
            Outcome::PoliceCalled => "Police called",
            Outcome::Technical => "Technical fault",
            Outcome::Activated => "Activated",
            Outcome::Rejected => "Activation rejected",
        }
    }

    /// Whether this outcome can close an item of `kind`: an activation
    /// request ends activated or rejected, anything else with what was
    /// found on site.
    pub fn fits(self, kind: ItemKind) -> bool {
        let decision = matches!(self, Outcome::Activated | Outcome::Rejected);
        decision == (kind == ItemKind::Activation)
    }
}

/// Where an item is in its lifecycle, with who moved it there and when.
/// Later states keep the earlier instants so times can be computed from the
/// status alone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Status {
    /// In the queue; nobody has taken it.
    Waiting,
    /// An operator has taken it and is looking at it.
    Claimed {
        /// The claimant.
        by: UserId,
        /// When it was claimed.
        at: Timestamp,
    },
    /// The claimant has confirmed they are dealing with it; it no longer
    /// escalates.
    Acknowledged {
        /// The claimant.
        by: UserId,
        /// When it was claimed.
        claimed_at: Timestamp,
        /// When it was acknowledged.
        at: Timestamp,
    },
    /// Done: the claimant recorded an outcome.
    Handled {
        /// The claimant, who handled it.
        by: UserId,
        /// When it was claimed.
        claimed_at: Timestamp,
        /// When it was acknowledged.
        acknowledged_at: Timestamp,
        /// When it was handled.
        at: Timestamp,
        /// How it ended.
        outcome: Outcome,
        /// The operator's notes, trimmed (at most [`MAX_NOTES_CHARS`]).
        notes: String,
        /// When the incident report was shared with the customer: at once
        /// when the customer takes reports as they come, else when someone
        /// in the centre reviewed and shared it. `None`: awaiting review.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        shared_at: Option<Timestamp>,
    },
}

impl Status {
    /// The name of this state, without its details.
    pub fn stage(&self) -> Stage {
        match self {
            Status::Waiting => Stage::Waiting,
            Status::Claimed { .. } => Stage::Claimed,
            Status::Acknowledged { .. } => Stage::Acknowledged,
            Status::Handled { .. } => Stage::Handled,
        }
    }

    /// Who holds the item: the claimant while it is claimed or acknowledged
    /// but not yet handled.
    pub fn holder(&self) -> Option<UserId> {
        match self {
            Status::Claimed { by, .. } | Status::Acknowledged { by, .. } => Some(*by),
            Status::Waiting | Status::Handled { .. } => None,
        }
    }
}

/// The name of a [`Status`], for errors and filters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// See [`Status::Waiting`].
    Waiting,
    /// See [`Status::Claimed`].
    Claimed,
    /// See [`Status::Acknowledged`].
    Acknowledged,
    /// See [`Status::Handled`].
    Handled,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Waiting => "waiting",
            Stage::Claimed => "claimed",
            Stage::Acknowledged => "acknowledged",
            Stage::Handled => "handled",
        })
    }
}

/// A step on a queue item was refused; the item is unchanged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    /// Someone (possibly the caller) already holds the item.
    #[error("this item is already claimed by user {by}; take another item from the queue")]
    AlreadyClaimed {
        /// Who holds it.
        by: UserId,
    },
    /// Only the claimant may release, acknowledge or handle an item.
    #[error("only the operator who claimed this item (user {claimant}) may do that")]
    NotClaimant {
        /// Who holds it.
        claimant: UserId,
    },
    /// The item is not in the state the step needs (reload the queue).
    #[error("this item is {found}, but that step needs it {expected}; reload the queue")]
    WrongStatus {
        /// The state the step needs.
        expected: Stage,
        /// The state the item is in.
        found: Stage,
    },
    /// The operator already holds another item.
    #[error("you already hold item {item}; handle or release it before claiming another")]
    AlreadyHolding {
        /// The item the operator holds.
        item: EventId,
    },
    /// The outcome does not belong to this kind of item.
    #[error(
        "{outcome:?} does not close an item of kind {kind:?}; an activation request ends activated or rejected, other items with what was found"
    )]
    OutcomeDoesNotFit {
        /// The item's kind.
        kind: ItemKind,
        /// The outcome given.
        outcome: Outcome,
    },
    /// Rejecting an activation needs a reason for the customer.
    #[error(
        "say why the activation is rejected in the notes: the customer reads them to put it right"
    )]
    ReasonRequired,
    /// The incident report was shared already.
    #[error("this incident report was already shared with the customer at {at}")]
    AlreadyShared {
        /// When.
        at: Timestamp,
    },
    /// The handling notes are too long.
    #[error("the notes are {len} characters long; the limit is {max}, shorten them")]
    NotesTooLong {
        /// Their length in characters, after trimming.
        len: usize,
        /// The limit ([`MAX_NOTES_CHARS`]).
        max: usize,
    },
    /// The step is dated before the item's previous step.
    #[error(
        "the step is dated {at}, before the item's previous step at {previous}: \
         the clock went backwards; check the hub's clock and retry"
    )]
    TimeBeforePrevious {
        /// The instant given for this step.
        at: Timestamp,
        /// The instant of the previous step (or of receipt).
        previous: Timestamp,
    },
}

/// One entry in the monitoring centre's queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// The event that raised it (also the item's id).
    pub id: EventId,
    /// What raised it.
    pub kind: ItemKind,
    /// The site it concerns.
    pub site: SiteId,
    /// The unit that raised it.
    pub unit: UnitId,
    /// Queue priority, 1 the most urgent (see [`priority_for`]).
    pub priority: u8,
    /// When the hub received it; escalation and response time count from
    /// here.
    pub received_at: Timestamp,
    /// Where it is in its lifecycle.
    pub status: Status,
    /// For an activation request: where the unit now stands, as the
    /// customer gave it (recorded as the unit's position when activated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_position: Option<Position>,
}

impl Item {
    /// A new, waiting item.
    pub fn new(
        id: EventId,
        kind: ItemKind,
        site: SiteId,
        unit: UnitId,
        priority: u8,
        received_at: Timestamp,
    ) -> Item {
        Item {
            id,
            kind,
            site,
            unit,
            priority,
            received_at,
            status: Status::Waiting,
            requested_position: None,
        }
    }

    /// `operator` takes this waiting item at `now`. `operator_holds` is the
    /// item the operator already holds, if any (from [`held_by`]); holding
    /// one refuses the claim. Claiming an item that is already claimed or
    /// acknowledged fails naming its holder, even when that is `operator`.
    pub fn claim(
        &mut self,
        operator: UserId,
        now: Timestamp,
        operator_holds: Option<EventId>,
    ) -> Result<(), QueueError> {
        match &self.status {
            Status::Waiting => {}
            Status::Claimed { by, .. } | Status::Acknowledged { by, .. } => {
                return Err(QueueError::AlreadyClaimed { by: *by });
            }
            Status::Handled { .. } => return Err(self.wrong(Stage::Waiting)),
        }
        if let Some(item) = operator_holds {
            return Err(QueueError::AlreadyHolding { item });
        }
        not_before(now, self.received_at)?;
        self.status = Status::Claimed {
            by: operator,
            at: now,
        };
        Ok(())
    }

    /// The claimant gives a claimed item back to the queue (before
    /// acknowledging it; after that it must be handled).
    pub fn release(&mut self, operator: UserId) -> Result<(), QueueError> {
        match &self.status {
            Status::Claimed { by, .. } if *by == operator => {
                self.status = Status::Waiting;
                Ok(())
            }
            Status::Claimed { by, .. } | Status::Acknowledged { by, .. } if *by != operator => {
                Err(QueueError::NotClaimant { claimant: *by })
            }
            _ => Err(self.wrong(Stage::Claimed)),
        }
    }

    /// The claimant confirms at `now` that they are dealing with the item;
    /// from then on it no longer escalates.
    pub fn acknowledge(&mut self, operator: UserId, now: Timestamp) -> Result<(), QueueError> {
        match self.status {
            Status::Claimed { by, at } if by == operator => {
                not_before(now, at)?;
                self.status = Status::Acknowledged {
                    by,
                    claimed_at: at,
                    at: now,
                };
                Ok(())
            }
            Status::Claimed { by, .. } | Status::Acknowledged { by, .. } if by != operator => {
                Err(QueueError::NotClaimant { claimant: by })
            }
            _ => Err(self.wrong(Stage::Claimed)),
        }
    }

    /// The claimant closes an acknowledged item at `now` with an outcome and
    /// notes. Notes are trimmed and may be at most [`MAX_NOTES_CHARS`]
    /// characters.
    pub fn handle(
        &mut self,
        operator: UserId,
        now: Timestamp,
        outcome: Outcome,
        notes: &str,
    ) -> Result<(), QueueError> {
        if !outcome.fits(self.kind) {
            return Err(QueueError::OutcomeDoesNotFit {
                kind: self.kind,
                outcome,
            });
        }
        if outcome == Outcome::Rejected && notes.trim().is_empty() {
            return Err(QueueError::ReasonRequired);
        }
        let (by, claimed_at, acknowledged_at) = match self.status {
            Status::Acknowledged { by, claimed_at, at } if by == operator => (by, claimed_at, at),
            // An activation request is decided straight from the claim:
            // nothing escalates while someone looks at the unit.
            Status::Claimed { by, at } if by == operator && self.kind == ItemKind::Activation => {
                (by, at, now)
            }
            Status::Claimed { by, .. } | Status::Acknowledged { by, .. } if by != operator => {
                return Err(QueueError::NotClaimant { claimant: by });
            }
            _ => return Err(self.wrong(Stage::Acknowledged)),
        };
        not_before(now, acknowledged_at)?;
        let notes = notes.trim();
        let len = notes.chars().count();
        if len > MAX_NOTES_CHARS {
            return Err(QueueError::NotesTooLong {
                len,
                max: MAX_NOTES_CHARS,
            });
        }
        self.status = Status::Handled {
            by,
            claimed_at,
            acknowledged_at,
            at: now,
            outcome,
            notes: notes.to_owned(),
            shared_at: None,
        };
        Ok(())
    }

    /// Shares a handled item's incident report with the customer at `now`
    /// (after review, or at once when handled for a customer who takes
    /// reports as they come). Anyone working the centre may review; a
    /// report is shared once.
    pub fn share_report(&mut self, now: Timestamp) -> Result<(), QueueError> {
        match &mut self.status {
            Status::Handled {
                shared_at: Some(at),
                ..
            } => Err(QueueError::AlreadyShared { at: *at }),
            Status::Handled {
                shared_at,
                at: handled,
                ..
            } => {
                not_before(now, *handled)?;
                *shared_at = Some(now);
                Ok(())
            }
            _ => Err(self.wrong(Stage::Handled)),
        }
    }

    /// Whether the item has been handled (it has left the open queue).
    pub fn is_handled(&self) -> bool {
        matches!(self.status, Status::Handled { .. })
    }

    /// Whether the item escalates at `now`: nobody has acknowledged it yet
    /// (it is waiting or only claimed) and it was received at least `after`
    /// ago.
    pub fn escalated(&self, now: Timestamp, after: SignedDuration) -> bool {
        self.awaits_acknowledgement() && now.duration_since(self.received_at) >= after
    }

    fn awaits_acknowledgement(&self) -> bool {
        matches!(self.status, Status::Waiting | Status::Claimed { .. })
    }

    fn wrong(&self, expected: Stage) -> QueueError {
        QueueError::WrongStatus {
            expected,
            found: self.status.stage(),
        }
    }
}

fn not_before(at: Timestamp, previous: Timestamp) -> Result<(), QueueError> {
    if at < previous {
        Err(QueueError::TimeBeforePrevious { at, previous })
    } else {
        Ok(())
    }
}

/// The item `operator` holds (claimed or acknowledged, not yet handled), if
/// any. With [`Item::claim`] enforcing it there is at most one.
pub fn held_by(items: &[Item], operator: UserId) -> Option<EventId> {
    items
        .iter()
        .find(|item| item.status.holder() == Some(operator))
        .map(|item| item.id)
}

/// The order of the open queue: most urgent priority first (1 before 2),
/// then the oldest `received_at`, then the id, so the order is total and
/// every operator sees the same list.
pub fn queue_order(a: &Item, b: &Item) -> Ordering {
    a.priority
        .cmp(&b.priority)
        .then(a.received_at.cmp(&b.received_at))
        .then(a.id.cmp(&b.id))
}

/// The unhandled items in [`queue_order`].
pub fn open_queue(items: &[Item]) -> Vec<&Item> {
    let mut open: Vec<&Item> = items.iter().filter(|item| !item.is_handled()).collect();
    open.sort_by(|a, b| queue_order(a, b));
    open
}

/// The earliest instant after `now` at which an unacknowledged item that has
/// not yet escalated will escalate, for the owner's timer. `None` when no
/// item is waiting to escalate (an item whose escalation instant is beyond
/// the representable range never escalates and is skipped).
pub fn next_escalation(items: &[Item], after: SignedDuration, now: Timestamp) -> Option<Timestamp> {
    items
        .iter()
        .filter(|item| item.awaits_acknowledgement() && !item.escalated(now, after))
        .filter_map(|item| item.received_at.checked_add(after).ok())
        .min()
}

/// The queue priority of an item raised at a site with `level`.
///
/// Alarms and tampers take the level's `centre_priority` (a tamper may be
/// the start of a break-in, so it is as urgent as an alarm). Offline items
/// are one step less urgent (`centre_priority + 1`, saturating at 255): a
/// silent unit needs attention but is more often a power or network fault
/// than an intrusion.
pub fn priority_for(level: &SecurityLevel, kind: ItemKind) -> u8 {
    match kind {
        ItemKind::Alarm | ItemKind::Tamper => level.centre_priority,
        ItemKind::Offline => level.centre_priority.saturating_add(1),
        ItemKind::Activation => level.centre_priority.saturating_add(2),
    }
}

#[cfg(test)]
mod simulation;
#[cfg(test)]
mod tests;
