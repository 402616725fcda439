//! The report task: every few seconds, e-mails new alarms to their sites'
//! instant recipients and sends each site's daily summary once it is due
//! in the site's time zone. Every send is recorded per site and in the
//! mail log; a failed send (after the mailer's retries) is recorded with
//! its reason and not repeated.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::civil::Time;
use jiff::tz::TimeZone;
use picket_proto::message::EventKind;
use tokio::sync::watch;

use super::compose::{self, AlarmNotice, DaySummary};
use super::schedule::{daily_due, local_day};
use crate::clock::Clock;
use crate::mail::{Mail, MailError, Mailer};
use crate::store::{Store, StoreError};

/// How often the task looks for work.
const TICK: Duration = Duration::from_secs(2);
/// The most alarms e-mailed per tick.
const BATCH: u32 = 200;

/// What the task needs.
pub struct Reports {
    /// Its own store connection.
    pub store: Store,
    /// The mailer (none: nothing is sent, and the log says so once).
    pub mailer: Option<Mailer>,
    /// The hub's clock.
    pub clock: Arc<dyn Clock>,
    /// Local time of the daily summary.
    pub daily_at: Time,
    /// How people reach the hub, for links.
    pub public_url: String,
}

impl std::fmt::Debug for Reports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reports")
    }
}

/// Starts the task; it ends when `stop` turns true.
pub fn spawn(reports: Reports, mut stop: watch::Receiver<bool>) {
    if reports.mailer.is_none() {
        tracing::warn!("no [mail] configured: alarm and daily report e-mails are not sent");
        return;
    }
    let shared = Arc::new(Mutex::new(reports));
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = tokio::time::sleep(TICK) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            if let Err(e) = tick(&shared).await {
                tracing::error!(error = %e, "report task: cannot read or record reports");
            }
        }
    });
}

/// Runs `f` on the store off the async threads.
async fn with<T: Send + 'static>(
    shared: &Arc<Mutex<Reports>>,
    f: impl FnOnce(&mut Reports) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let shared = shared.clone();
    tokio::task::spawn_blocking(move || {
        let mut r = shared.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut r)
    })
    .await
    .map_err(|e| StoreError::Encoding(format!("report task: {e}")))?
}

/// Sends one mail and records it.
async fn send(
    shared: &Arc<Mutex<Reports>>,
    site: picket_proto::ids::SiteId,
    kind: &'static str,
    about: String,
    mail: Mail,
) -> Result<(), StoreError> {
    let mailer = {
        let r = shared.lock().unwrap_or_else(|p| p.into_inner());
        r.mailer.clone()
    };
    let Some(mailer) = mailer else {
        return Ok(());
    };
    let outcome = mailer.send(&mail).await;
    let (text, attempts) = match &outcome {
        Ok(attempts) => ("sent".to_owned(), *attempts),
        Err(MailError::Send { attempts, last }) => (last.clone(), *attempts),
        Err(e) => (e.to_string(), 0),
    };
    if text != "sent" {
        tracing::warn!(%site, to = %mail.to, kind, reason = %text, "a report e-mail was not delivered");
    }
    with(shared, move |r| {
        let now = r.clock.now();
        r.store
            .record_report(site, kind, &about, &mail.to, now, &text, attempts)?;
        r.store
            .record_mail(now, &mail.to, &mail.subject, mail.purpose, &text, attempts)
    })
    .await
}

async fn tick(shared: &Arc<Mutex<Reports>>) -> Result<(), StoreError> {
    // Instant alarm e-mails.
    let (alarms, read_to) = with(shared, |r| r.store.alarms_to_report(BATCH)).await?;
    for alarm in alarms {
        let site = alarm.site;
        let EventKind::Alarm {
            sensor,
            sensor_kind,
            ..
        } = alarm.event.kind.clone()
        else {
            continue;
        };
        let (row, recipients) = with(shared, move |r| {
            Ok((r.store.site(site)?, r.store.recipients(site)?))
        })
        .await?;
        if let Some(row) = row {
            let tz = TimeZone::get(&row.schedule.time_zone).unwrap_or(TimeZone::UTC);
            let notice = AlarmNotice {
                site: row.name.clone(),
                id: alarm.event.id,
                unit: alarm.unit,
                sensor,
                sensor_kind,
                at: alarm.event.at,
            };
            let url = shared
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .public_url
                .clone();
            let (subject, text) = compose::instant(&notice, &tz, &url);
            for to in recipients.into_iter().filter(|r| r.instant) {
                let mail = Mail {
                    to: to.email,
                    subject: subject.clone(),
                    text: text.clone(),
                    purpose: "alarm_report",
                };
                send(shared, site, "instant", alarm.event.id.to_string(), mail).await?;
            }
        }
        let done = alarm.row;
        with(shared, move |r| r.store.set_report_cursor(done)).await?;
    }
    with(shared, move |r| r.store.set_report_cursor(read_to)).await?;

    // Daily summaries that are due.
    let sites = with(shared, |r| r.store.sites_with_daily_reports()).await?;
    for site in sites {
        let due = with(shared, move |r| {
            let Some(row) = r.store.site(site)? else {
                return Ok(None);
            };
            let tz = TimeZone::get(&row.schedule.time_zone).unwrap_or(TimeZone::UTC);
            let now = r.clock.now();
            let Some(date) = daily_due(now, &tz, r.daily_at, r.store.last_daily(site)?) else {
                return Ok(None);
            };
            let Some((from, to)) = local_day(date, &tz) else {
                return Ok(None);
            };
            let counts = r.store.day_counts(site, from, to)?;
            let units: Vec<_> = r
                .store
                .units()?
                .into_iter()
                .filter(|u| u.site == Some(site))
                .collect();
            let summary = DaySummary {
                site: row.name,
                alarms: counts.alarms,
                handled: counts.handled,
                open: counts.open,
                awaiting_review: counts.awaiting_review,
                units: units.len(),
                offline: units.iter().filter(|u| !u.online).count(),
            };
            Ok(Some((
                date,
                summary,
                r.store.recipients(site)?,
                r.public_url.clone(),
            )))
        })
        .await?;
        let Some((date, summary, recipients, url)) = due else {
            continue;
        };
        let (subject, text) = compose::daily(&summary, date, &url);
        for to in recipients.into_iter().filter(|r| r.daily) {
            let mail = Mail {
                to: to.email,
                subject: subject.clone(),
                text: text.clone(),
                purpose: "daily_report",
            };
            send(shared, site, "daily", date.to_string(), mail).await?;
        }
        with(shared, move |r| r.store.set_last_daily(site, date)).await?;
    }
    Ok(())
}
