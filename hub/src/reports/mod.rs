//! Reports to a site's report recipients: an e-mail for every alarm
//! (instant) and a daily summary at a local time in the site's time zone,
//! sent over SMTP with the mailer's retries, each send recorded per site
//! (`report_sends`) and in the mail log.
//!
//! [`schedule`] and [`compose`] are pure; [`task`] reads the store, sends
//! and records.

pub mod compose;
pub mod schedule;
pub mod task;
