//! The hub reads time only through [`Clock`] (from `picket-proto`);
//! [`SystemClock`] is the real one.

use jiff::Timestamp;
pub use picket_proto::clock::{Clock, ManualClock};

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}
