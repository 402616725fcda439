//! Outgoing e-mail over SMTP: invitations, password resets, dealer-access
//! requests and notices, and (later) alarm reports.
//!
//! TLS by default: implicit TLS (`tls`, port 465) or `starttls` (587).
//! Plain SMTP (`insecure_plain`) is accepted only towards a loopback
//! address, for a local relay or a development sink. Each message is tried
//! a few times with growing pauses; the caller records the outcome in the
//! store's mail log, so every send (and every failure) can be looked up.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;

/// How the hub talks to its SMTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MailSecurity {
    /// TLS from the first byte (SMTPS, usually port 465).
    #[default]
    Tls,
    /// Plain connection upgraded with STARTTLS (usually port 587); refused
    /// if the server does not offer it.
    Starttls,
    /// No encryption: only towards a loopback address.
    InsecurePlain,
}

/// `[mail]` in the hub's config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailConfig {
    /// SMTP server host name or address.
    pub server: String,
    /// Port (default: 465 for `tls`, 587 for `starttls`, 25 otherwise).
    #[serde(default)]
    pub port: Option<u16>,
    /// Transport security (default `tls`).
    #[serde(default)]
    pub security: MailSecurity,
    /// The sender, e.g. `Picket <noreply@example.com>`.
    pub from: String,
    /// SMTP user name, if the server wants one.
    #[serde(default)]
    pub username: Option<String>,
    /// File holding the SMTP password (never the password itself in config).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Attempts per message (default 3).
    #[serde(default = "default_attempts")]
    pub attempts: u32,
}

fn default_attempts() -> u32 {
    3
}

/// Mail could not be set up or sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The configuration is not usable.
    #[error("mail configuration: {0}")]
    Config(String),
    /// An address is not valid.
    #[error("not a valid e-mail address: {0:?}")]
    Address(String),
    /// The message could not be built.
    #[error("cannot build the message: {0}")]
    Build(String),
    /// The server did not take it after every attempt.
    #[error("the SMTP server did not accept the message after {attempts} attempts: {last}")]
    Send {
        /// Attempts made.
        attempts: u32,
        /// The last error.
        last: String,
    },
}

/// One message to send (plain text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Body text.
    pub text: String,
    /// Why it is sent (`invitation`, `password_reset`, ...), for the log.
    pub purpose: &'static str,
}

/// A configured SMTP client.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    attempts: u32,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .field("attempts", &self.attempts)
            .finish()
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Mailer {
    /// Checks `config` and prepares the transport (no connection yet).
    pub fn new(config: &MailConfig) -> Result<Mailer, MailError> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|_| MailError::Address(config.from.clone()))?;
        if config.attempts == 0 || config.attempts > 10 {
            return Err(MailError::Config(
                "attempts must be between 1 and 10".into(),
            ));
        }
        let builder = match config.security {
            MailSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&config.server)
                .map_err(|e| MailError::Config(e.to_string()))?,
            MailSecurity::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.server)
                    .map_err(|e| MailError::Config(e.to_string()))?
            }
            MailSecurity::InsecurePlain => {
                if !is_loopback(&config.server) {
                    return Err(MailError::Config(format!(
                        "security = \"insecure_plain\" is allowed only towards a loopback address, not {:?}; use \"tls\" or \"starttls\"",
                        config.server
                    )));
                }
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.server)
            }
        };
        let port = config.port.unwrap_or(match config.security {
            MailSecurity::Tls => 465,
            MailSecurity::Starttls => 587,
            MailSecurity::InsecurePlain => 25,
        });
        let mut builder = builder.port(port).timeout(Some(Duration::from_secs(20)));
        if let Some(user) = &config.username {
            let Some(file) = &config.password_file else {
                return Err(MailError::Config(
                    "username is set but password_file is not".into(),
                ));
            };
            let password = std::fs::read_to_string(file)
                .map_err(|e| MailError::Config(format!("cannot read {}: {e}", file.display())))?;
            builder =
                builder.credentials(Credentials::new(user.clone(), password.trim().to_owned()));
        }
        Ok(Mailer {
            transport: builder.build(),
            from,
            attempts: config.attempts,
        })
    }

    /// Sends `mail`, retrying with pauses of 1 s, 2 s, ...; returns the
    /// number of attempts it took.
    pub async fn send(&self, mail: &Mail) -> Result<u32, MailError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|_| MailError::Address(mail.to.clone()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(mail.text.clone())
            .map_err(|e| MailError::Build(e.to_string()))?;
        let mut last = String::new();
        for attempt in 1..=self.attempts {
            match self.transport.send(message.clone()).await {
                Ok(_) => return Ok(attempt),
                Err(e) => {
                    last = e.to_string();
                    tracing::warn!(to = %mail.to, purpose = mail.purpose, attempt, error = %e, "e-mail not accepted");
                    if e.is_permanent() {
                        return Err(MailError::Send {
                            attempts: attempt,
                            last,
                        });
                    }
                    if attempt < self.attempts {
                        tokio::time::sleep(Duration::from_secs(u64::from(attempt))).await;
                    }
                }
            }
        }
        Err(MailError::Send {
            attempts: self.attempts,
            last,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(server: &str, security: MailSecurity) -> MailConfig {
        MailConfig {
            server: server.into(),
            port: None,
            security,
            from: "Picket <noreply@example.com>".into(),
            username: None,
            password_file: None,
            attempts: 3,
        }
    }

    #[test]
    fn plain_smtp_is_refused_unless_the_server_is_on_loopback() {
        let err = Mailer::new(&config("mail.example.com", MailSecurity::InsecurePlain))
            .unwrap_err()
            .to_string();
        assert!(err.contains("only towards a loopback"), "{err}");
        Mailer::new(&config("127.0.0.1", MailSecurity::InsecurePlain)).unwrap();
        Mailer::new(&config("localhost", MailSecurity::InsecurePlain)).unwrap();
        Mailer::new(&config("::1", MailSecurity::InsecurePlain)).unwrap();
        Mailer::new(&config("mail.example.com", MailSecurity::Tls)).unwrap();
    }

    #[test]
    fn bad_settings_are_refused_with_what_to_fix() {
        let mut c = config("127.0.0.1", MailSecurity::InsecurePlain);
        c.from = "not an address".into();
        assert!(matches!(Mailer::new(&c), Err(MailError::Address(_))));
        let mut c = config("127.0.0.1", MailSecurity::InsecurePlain);
        c.username = Some("picket".into());
        let err = Mailer::new(&c).unwrap_err().to_string();
        assert!(err.contains("password_file"), "{err}");
        let mut c = config("127.0.0.1", MailSecurity::InsecurePlain);
        c.attempts = 0;
        assert!(Mailer::new(&c).is_err());
    }
}
