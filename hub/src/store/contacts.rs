//! A site's contacts (whom the centre calls, in order) and report
//! recipients (who gets its alarm e-mails and daily summary). Every change
//! is written with its audit entry in one transaction.

use jiff::Timestamp;
use picket_proto::ids::SiteId;
use rusqlite::{OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};

use super::audit::AuditEntry;
use super::{Store, StoreError};

/// A contact as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactRow {
    /// Its id (within the hub).
    pub id: i64,
    /// Call order, 1 first.
    pub position: u32,
    /// Name.
    pub name: String,
    /// Phone number as entered.
    pub phone: String,
    /// E-mail, if given.
    pub email: Option<String>,
}

/// A contact to store (validated by the caller).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewContact {
    /// Name.
    pub name: String,
    /// Phone number.
    pub phone: String,
    /// E-mail, optional.
    #[serde(default)]
    pub email: Option<String>,
}

/// A report recipient as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecipientRow {
    /// Its id (within the hub).
    pub id: i64,
    /// Where reports go.
    pub email: String,
    /// An e-mail for every alarm.
    pub instant: bool,
    /// The daily summary.
    pub daily: bool,
}

/// A recipient to store (validated by the caller).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRecipient {
    /// Where reports go.
    pub email: String,
    /// An e-mail for every alarm.
    #[serde(default)]
    pub instant: bool,
    /// The daily summary.
    #[serde(default)]
    pub daily: bool,
}

fn require_site(tx: &Transaction<'_>, site: SiteId) -> Result<(), StoreError> {
    tx.query_row(
        "SELECT 1 FROM sites WHERE id = ?1",
        params![site.as_bytes().as_slice()],
        |_| Ok(()),
    )
    .optional()?
    .ok_or_else(|| StoreError::NotFound(format!("site {site}")))
}

impl Store {
    /// A site's contacts in call order.
    pub fn contacts(&self, site: SiteId) -> Result<Vec<ContactRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, position, name, phone, email FROM site_contacts
             WHERE site = ?1 ORDER BY position",
        )?;
        let rows = stmt.query_map(params![site.as_bytes().as_slice()], |r| {
            Ok(ContactRow {
                id: r.get(0)?,
                position: r.get(1)?,
                name: r.get(2)?,
                phone: r.get(3)?,
                email: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Replaces a site's contacts with `contacts`, in that order. A site
    /// always keeps at least one contact, so an empty list is refused.
    pub fn set_contacts(
        &mut self,
        site: SiteId,
        contacts: &[NewContact],
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<Vec<ContactRow>, StoreError> {
        if contacts.is_empty() {
            return Err(StoreError::Conflict(
                "a site needs at least one contact; add the new one before removing the last"
                    .into(),
            ));
        }
        self.audited(audit, now, |tx| {
            require_site(tx, site)?;
            let key = site.as_bytes();
            tx.execute(
                "DELETE FROM site_contacts WHERE site = ?1",
                params![key.as_slice()],
            )?;
            for (i, c) in contacts.iter().enumerate() {
                tx.execute(
                    "INSERT INTO site_contacts (site, position, name, phone, email)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![key.as_slice(), i as i64 + 1, c.name, c.phone, c.email],
                )?;
            }
            Ok(())
        })?;
        self.contacts(site)
    }

    /// Removes one contact, unless it is the site's last; the others keep
    /// their order.
    pub fn remove_contact(
        &mut self,
        site: SiteId,
        id: i64,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<Vec<ContactRow>, StoreError> {
        self.audited(audit, now, |tx| {
            let key = site.as_bytes();
            let position: u32 = tx
                .query_row(
                    "SELECT position FROM site_contacts WHERE site = ?1 AND id = ?2",
                    params![key.as_slice(), id],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or_else(|| StoreError::NotFound(format!("contact {id} of site {site}")))?;
            let count: i64 = tx.query_row(
                "SELECT COUNT(*) FROM site_contacts WHERE site = ?1",
                params![key.as_slice()],
                |r| r.get(0),
            )?;
            if count <= 1 {
                return Err(StoreError::Conflict(
                    "the last contact of a site cannot be removed; add another first".into(),
                ));
            }
            tx.execute("DELETE FROM site_contacts WHERE id = ?1", params![id])?;
            // Close the gap one row at a time (the order index is unique).
            let mut later: Vec<i64> = Vec::new();
            {
                let mut stmt = tx.prepare(
                    "SELECT id FROM site_contacts WHERE site = ?1 AND position > ?2
                     ORDER BY position",
                )?;
                for row in stmt.query_map(params![key.as_slice(), position], |r| r.get(0))? {
                    later.push(row?);
                }
            }
            for (i, later_id) in later.into_iter().enumerate() {
                tx.execute(
                    "UPDATE site_contacts SET position = ?1 WHERE id = ?2",
                    params![i64::from(position) + i as i64, later_id],
                )?;
            }
            Ok(())
        })?;
        self.contacts(site)
    }

    /// A site's report recipients, by e-mail.
    pub fn recipients(&self, site: SiteId) -> Result<Vec<RecipientRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, email, instant, daily FROM report_recipients
             WHERE site = ?1 ORDER BY email",
        )?;
        let rows = stmt.query_map(params![site.as_bytes().as_slice()], |r| {
            Ok(RecipientRow {
                id: r.get(0)?,
                email: r.get(1)?,
                instant: r.get(2)?,
                daily: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Replaces a site's report recipients (an empty list: no reports).
    /// The same address twice is refused.
    pub fn set_recipients(
        &mut self,
        site: SiteId,
        recipients: &[NewRecipient],
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<Vec<RecipientRow>, StoreError> {
        self.audited(audit, now, |tx| {
            require_site(tx, site)?;
            let key = site.as_bytes();
            tx.execute(
                "DELETE FROM report_recipients WHERE site = ?1",
                params![key.as_slice()],
            )?;
            for r in recipients {
                let inserted = tx.execute(
                    "INSERT INTO report_recipients (site, email, instant, daily)
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                    params![key.as_slice(), r.email, r.instant, r.daily],
                )?;
                if inserted == 0 {
                    return Err(StoreError::Conflict(format!(
                        "{} is listed twice; give each address once with both report kinds",
                        r.email
                    )));
                }
            }
            Ok(())
        })?;
        self.recipients(site)
    }
}

#[cfg(test)]
mod tests;
