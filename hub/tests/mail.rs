//! E-mail to a real SMTP server: Debian's aiosmtpd (installed by
//! deploy/setup.sh), started by the test on its own port, writing what it
//! receives into a Maildir that the test reads back.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use picket_hub::mail::{Mail, MailConfig, MailError, MailSecurity, Mailer};

struct Sink {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_sink() -> Sink {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = Command::new("/usr/bin/python3")
        .args(["-m", "aiosmtpd", "-n", "-l"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(dir.path().join("maildir"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3-aiosmtpd (deploy/setup.sh installs it)");
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "aiosmtpd did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Sink { child, port, dir }
}

fn received(maildir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(maildir.join("new")) else {
        return Vec::new();
    };
    entries
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect()
}

fn config(port: u16, attempts: u32) -> MailConfig {
    MailConfig {
        server: "127.0.0.1".into(),
        port: Some(port),
        security: MailSecurity::InsecurePlain,
        from: "Picket <noreply@picket.example>".into(),
        username: None,
        password_file: None,
        attempts,
    }
}

#[tokio::test]
async fn a_message_reaches_the_smtp_server_with_its_headers_and_text() {
    let sink = start_sink();
    let mailer = Mailer::new(&config(sink.port, 3)).unwrap();
    let mail = Mail {
        to: "anna.holm@customer.example".into(),
        subject: "You are invited to Picket".into(),
        text: "Anna, Bo invited you.\nSet your password: https://hub.example/invite#pl_0123\n"
            .into(),
        purpose: "invitation",
    };
    assert_eq!(mailer.send(&mail).await.unwrap(), 1, "first attempt");
    let got = received(&sink.dir.path().join("maildir"));
    assert_eq!(got.len(), 1, "{got:?}");
    let m = &got[0];
    assert!(m.contains("Subject: You are invited to Picket"), "{m}");
    assert!(m.contains("X-RcptTo: anna.holm@customer.example"), "{m}");
    assert!(m.contains("X-MailFrom: noreply@picket.example"), "{m}");
    assert!(m.contains("From: Picket <noreply@picket.example>"), "{m}");
    assert!(m.contains("https://hub.example/invite#pl_0123"), "{m}");
}

#[tokio::test]
async fn an_unreachable_server_fails_after_the_configured_attempts() {
    let port = free_port(); // nobody listens
    let mailer = Mailer::new(&config(port, 2)).unwrap();
    let mail = Mail {
        to: "anna.holm@customer.example".into(),
        subject: "x".into(),
        text: "x".into(),
        purpose: "invitation",
    };
    match mailer.send(&mail).await {
        Err(MailError::Send { attempts, last }) => {
            assert_eq!(attempts, 2);
            assert!(!last.is_empty());
        }
        other => panic!("expected a send failure, got {other:?}"),
    }
}

#[tokio::test]
async fn a_bad_recipient_is_refused_before_connecting() {
    let mailer = Mailer::new(&config(free_port(), 1)).unwrap();
    let mail = Mail {
        to: "not-an-address".into(),
        subject: "x".into(),
        text: "x".into(),
        purpose: "invitation",
    };
    assert!(matches!(
        mailer.send(&mail).await,
        Err(MailError::Address(a)) if a == "not-an-address"
    ));
}
