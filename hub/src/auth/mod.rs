//! Who is asking: passwords, secrets (sessions, API tokens, links), login
//! throttling and session expiry. Pure where it can be (throttling and
//! expiry take the time as an argument); the HTTP layer and the store use
//! these pieces, the access decisions themselves live in `picket-access`.

pub mod password;
pub mod secret;
pub mod session;
pub mod throttle;
