//! What the hub needs to terminate its units' MQTT itself, as pure logic.
//!
//! - [`codec`]: MQTT 3.1.1 packets, decoded from a borrowed slice and
//!   encoded into a `Vec`; only what units use (CONNECT, PUBLISH at QoS 0
//!   and 1, PUBACK, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT), anything
//!   else refused with a reason.
//! - [`filter`]: a unit's subscription filters judged against its own
//!   prefix (`/tenants/<unit>/`) and matched against its down topics.
//! - [`session`]: one unit's session (subscriptions, retained desired
//!   config, queued and in-flight down messages, last will) driven by
//!   decoded packets, messages from the hub and disconnects; it writes the
//!   packets to send into a buffer and says what to hand to ingest.
//!
//! The hub's connection driver (`picket-hub`'s `front`) does the TLS and
//! the sockets; everything it decides is here, tested without either.

pub mod codec;
pub mod filter;
pub mod session;
