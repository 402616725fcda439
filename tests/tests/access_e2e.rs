//! The access model end to end: the real `picket-hub` binary over real
//! HTTP, e-mail through a real SMTP server (Debian's aiosmtpd), and the
//! audit chain checked by `picket-hub audit verify` after tampering with the
//! database file. Also the site reports that go out by e-mail: an alarm
//! from a real agent reaches the instant recipients, the daily summary
//! reaches the daily ones, and both sends are listed for the site.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use picket_tests::cluster::{Cluster, binary, free_port, http, http_with, wait_for};
use serde_json::json;

const PASSWORD: &str = "correct horse battery staple";

struct Smtp {
    child: Child,
    port: u16,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn smtp(maildir: &Path) -> Smtp {
    let port = free_port();
    let child = Command::new("/usr/bin/python3")
        .args(["-m", "aiosmtpd", "-n", "-l"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(maildir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3-aiosmtpd (deploy/setup.sh installs it)");
    wait_for("aiosmtpd", Duration::from_secs(10), || {
        TcpStream::connect(("127.0.0.1", port)).ok()
    });
    Smtp { child, port }
}

/// The messages in the Maildir, with quoted-printable bodies decoded as a
/// mail client would (long lines such as links are wrapped with soft line
/// breaks on the wire).
fn mails(maildir: &Path) -> Vec<String> {
    std::fs::read_dir(maildir.join("new"))
        .map(|dir| {
            dir.map(|e| {
                let raw = std::fs::read_to_string(e.expect("entry").path()).expect("mail");
                decode_quoted_printable(&raw)
            })
            .collect()
        })
        .unwrap_or_default()
}

fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let mut out = Vec::with_capacity(joined.len());
    let bytes = joined.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && let Some(hex) = joined.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Signs in and returns the session cookie pair (`picket_session=...`).
/// A hub (real binary) with `[mail]` pointing at a fresh aiosmtpd.
fn cluster_with_mail() -> (Cluster, Smtp, std::path::PathBuf) {
    cluster_with_mail_and(0, "")
}

/// The same with `units` provisioned units and `extra` appended to
/// hub.toml.
fn cluster_with_mail_and(units: usize, extra: &str) -> (Cluster, Smtp, std::path::PathBuf) {
    let mut cluster = Cluster::start(units);
    let maildir = cluster.dir.path().join("maildir");
    let server = smtp(&maildir);
    let config = cluster.dir.path().join("hub/hub.toml");
    let mut text = std::fs::read_to_string(&config).expect("hub.toml");
    text.push_str(&format!(
        "[mail]\nserver = \"127.0.0.1\"\nport = {}\nsecurity = \"insecure_plain\"\nfrom = \"Picket <noreply@picket.example>\"\n",
        server.port
    ));
    text.push_str(extra);
    text = text.replace(
        "[api]\n",
        "[api]\npublic_url = \"https://hub.picket.example\"\n",
    );
    std::fs::write(&config, text).expect("hub.toml");
    if let Some(mut hub) = cluster.hub.take() {
        hub.stop();
    }
    cluster.start_hub();
    (cluster, server, maildir)
}

/// The first mail to `to` whose subject contains `subject`.
fn mail_to(maildir: &Path, to: &str, subject: &str) -> String {
    wait_for(
        &format!("an e-mail to {to}"),
        Duration::from_secs(10),
        || {
            mails(maildir)
                .into_iter()
                .find(|m| m.contains(&format!("X-RcptTo: {to}")) && m.contains(subject))
        },
    )
}

/// The `pl_` token of the first link in `mail`.
fn link_token(mail: &str) -> String {
    mail.split_whitespace()
        .find_map(|w| w.split_once("#pl_").map(|(_, t)| format!("pl_{t}")))
        .unwrap_or_else(|| panic!("no link in {mail}"))
}

/// A customer with an owner (through the e-mailed invitation); returns
/// (org id, owner cookie).
fn customer_with_owner(cluster: &Cluster, maildir: &Path) -> (String, String) {
    let (status, org) = cluster.operator(
        "POST",
        "/api/v1/organisations",
        Some(json!({ "kind": "customer", "name": "Harbour Ltd" })),
    );
    assert_eq!(status, 201, "{org}");
    let org = org["id"].as_str().expect("id").to_owned();
    let (status, _) = cluster.operator(
        "POST",
        &format!("/api/v1/organisations/{org}/users"),
        Some(json!({ "email": "anna@harbour.example", "name": "Anna Holm", "role": "owner" })),
    );
    assert_eq!(status, 201);
    let token = link_token(&mail_to(maildir, "anna@harbour.example", "invited"));
    cluster.accept_invitation(&token, PASSWORD);
    (org, cluster.sign_in("anna@harbour.example", PASSWORD))
}

#[test]
fn a_forgotten_password_is_reset_by_an_emailed_link_that_works_once() {
    let (cluster, _server, maildir) = cluster_with_mail();
    let (_, old_session) = customer_with_owner(&cluster, &maildir);
    // Unknown addresses get the same answer and no mail.
    for email in ["nobody@harbour.example", "anna@harbour.example"] {
        let (status, _) = http(
            cluster.api,
            "POST",
            "/api/v1/password-reset",
            Some(json!({ "email": email })),
            None,
        )
        .expect("API");
        assert_eq!(status, 202);
    }
    let mail = mail_to(
        &maildir,
        "anna@harbour.example",
        "Reset your Picket password",
    );
    assert!(
        mail.contains("https://hub.picket.example/password-reset#pl_"),
        "{mail}"
    );
    assert!(
        !mails(&maildir)
            .iter()
            .any(|m| m.contains("nobody@harbour.example"))
    );
    let token = link_token(&mail);
    let new_password = "a different long passphrase";
    let (status, body) = http(
        cluster.api,
        "POST",
        "/api/v1/password-reset/complete",
        Some(json!({ "token": token, "password": new_password })),
        None,
    )
    .expect("API");
    assert_eq!(status, 204, "{body}");
    // Signed out everywhere; the old password no longer works; the new one does.
    assert_eq!(
        cluster
            .as_user(&old_session, "GET", "/api/v1/session", None)
            .0,
        401
    );
    let (status, _) = http(
        cluster.api,
        "POST",
        "/api/v1/session",
        Some(json!({ "email": "anna@harbour.example", "password": PASSWORD })),
        None,
    )
    .expect("API");
    assert_eq!(status, 401);
    let (status, _) = http(
        cluster.api,
        "POST",
        "/api/v1/session",
        Some(json!({ "email": "anna@harbour.example", "password": new_password })),
        None,
    )
    .expect("API");
    assert_eq!(status, 200);
    // The link worked once.
    let (status, _) = http(
        cluster.api,
        "POST",
        "/api/v1/password-reset/complete",
        Some(json!({ "token": token, "password": "yet another passphrase" })),
        None,
    )
    .expect("API");
    assert_eq!(status, 409);
}

#[test]
fn a_dealer_request_is_granted_for_24_hours_by_the_owner_from_the_email() {
    let (cluster, _server, maildir) = cluster_with_mail();
    let (org, owner) = customer_with_owner(&cluster, &maildir);
    let (status, dealer) = cluster.operator(
        "POST",
        "/api/v1/organisations",
        Some(json!({ "kind": "dealer", "name": "Fix-It Alarms" })),
    );
    assert_eq!(status, 201);
    let dealer = dealer["id"].as_str().expect("id").to_owned();
    assert_eq!(
        cluster
            .operator(
                "PUT",
                &format!("/api/v1/organisations/{org}/dealers/{dealer}"),
                None
            )
            .0,
        204
    );
    let (status, _) = cluster.operator(
        "POST",
        &format!("/api/v1/organisations/{dealer}/users"),
        Some(json!({ "email": "tom@fixit.example", "name": "Tom", "role": "dealer_technician" })),
    );
    assert_eq!(status, 201);
    let token = link_token(&mail_to(&maildir, "tom@fixit.example", "invited"));
    assert_eq!(
        http(
            cluster.api,
            "POST",
            "/api/v1/invitations/accept",
            Some(json!({ "token": token, "password": PASSWORD })),
            None
        )
        .expect("API")
        .0,
        204
    );
    let tech = cluster.sign_in("tom@fixit.example", PASSWORD);

    let (status, body) = cluster.as_user(
        &tech,
        "POST",
        &format!("/api/v1/organisations/{org}/dealer-access/request"),
        None,
    );
    assert_eq!(status, 202, "{body}");
    let mail = mail_to(&maildir, "anna@harbour.example", "asks for 24 hours");
    assert!(mail.contains("never see live video or clips"), "{mail}");
    let token = link_token(&mail);
    // Only the owner can answer it (the dealer cannot grant itself).
    let (status, _) = cluster.as_user(
        &tech,
        "POST",
        "/api/v1/dealer-access/confirm",
        Some(json!({ "token": token })),
    );
    assert_eq!(status, 403);
    let (status, grant) = cluster.as_user(
        &owner,
        "POST",
        "/api/v1/dealer-access/confirm",
        Some(json!({ "token": token })),
    );
    assert_eq!(status, 201, "{grant}");
    assert_eq!(grant["kind"], "by_request");
    let starts: jiff::Timestamp = grant["starts_at"]
        .as_str()
        .expect("starts")
        .parse()
        .expect("time");
    let ends: jiff::Timestamp = grant["ends_at"]
        .as_str()
        .expect("ends")
        .parse()
        .expect("time");
    assert_eq!(
        ends.duration_since(starts),
        jiff::SignedDuration::from_hours(24)
    );
    let (status, _) = cluster.as_user(
        &owner,
        "POST",
        "/api/v1/dealer-access/confirm",
        Some(json!({ "token": token })),
    );
    assert_eq!(status, 409, "answered once");
    // The dealer signs in during it: the owner is told by e-mail.
    cluster.sign_in("tom@fixit.example", PASSWORD);
    let notice = mail_to(
        &maildir,
        "anna@harbour.example",
        "Your security dealer signed in",
    );
    assert!(notice.contains("tom@fixit.example signed in"), "{notice}");
}

#[test]
fn an_invitation_arrives_by_email_and_revocation_ends_a_live_session() {
    let (cluster, _server, maildir) = cluster_with_mail();

    let (status, org) = cluster.operator(
        "POST",
        "/api/v1/organisations",
        Some(json!({ "kind": "customer", "name": "Harbour Ltd" })),
    );
    assert_eq!(status, 201, "{org}");
    let org = org["id"].as_str().expect("id").to_owned();
    let (status, invited) = cluster.operator(
        "POST",
        &format!("/api/v1/organisations/{org}/users"),
        Some(json!({ "email": "anna@harbour.example", "name": "Anna Holm", "role": "owner" })),
    );
    assert_eq!(status, 201, "{invited}");
    assert_eq!(invited["emailed"], true, "{invited}");

    // The e-mail: to Anna, from the configured sender, with a link to the
    // public address carrying the single-use token.
    let got = wait_for("the invitation e-mail", Duration::from_secs(10), || {
        let m = mails(&maildir);
        (!m.is_empty()).then_some(m)
    });
    assert_eq!(got.len(), 1);
    let mail = &got[0];
    assert!(mail.contains("X-RcptTo: anna@harbour.example"), "{mail}");
    assert!(
        mail.contains("Subject: You are invited to Picket"),
        "{mail}"
    );
    assert!(mail.contains("Owner (master user)"), "{mail}");
    let link = mail
        .split_whitespace()
        .find(|w| w.starts_with("https://hub.picket.example/invitation#pl_"))
        .unwrap_or_else(|| panic!("no link in {mail}"));
    let token = link.split('#').nth(1).expect("token");

    cluster.accept_invitation(token, PASSWORD);
    let owner = cluster.sign_in("anna@harbour.example", PASSWORD);

    // Anna invites Bo (keyholder); Bo's e-mail comes; Bo signs in.
    let (status, bo) = cluster.as_user(
        &owner,
        "POST",
        &format!("/api/v1/organisations/{org}/users"),
        Some(json!({ "email": "bo@harbour.example", "name": "Bo", "role": "keyholder" })),
    );
    assert_eq!(status, 201, "{bo}");
    assert!(
        bo.get("invitation_link").is_none(),
        "a person never sees the link"
    );
    let got = wait_for("Bo's e-mail", Duration::from_secs(10), || {
        let m = mails(&maildir);
        m.into_iter()
            .find(|m| m.contains("X-RcptTo: bo@harbour.example"))
    });
    assert!(got.contains("anna@harbour.example invited you"), "{got}");
    let token = got
        .split_whitespace()
        .find_map(|w| w.split_once("#pl_").map(|(_, t)| format!("pl_{t}")))
        .expect("token");
    cluster.accept_invitation(&token, PASSWORD);
    let bo_session = cluster.sign_in("bo@harbour.example", PASSWORD);
    assert_eq!(
        cluster
            .as_user(&bo_session, "GET", "/api/v1/session", None)
            .0,
        200
    );

    // Revoked: Bo's very next request is refused.
    let bo_id = bo["id"].as_str().expect("id");
    let (status, _) = cluster.as_user(
        &owner,
        "POST",
        &format!("/api/v1/users/{bo_id}/revoke"),
        None,
    );
    assert_eq!(status, 204);
    let (status, body) = cluster.as_user(&bo_session, "GET", "/api/v1/session", None);
    assert_eq!(status, 401, "{body}");

    // Every send is in the mail log.
    let db = rusqlite::Connection::open(cluster.dir.path().join("hub/data/hub.db")).expect("db");
    let sent: Vec<(String, String, String)> = db
        .prepare("SELECT recipient, purpose, outcome FROM mail_log ORDER BY id")
        .expect("query")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(
        sent,
        [
            (
                "anna@harbour.example".into(),
                "invitation".into(),
                "sent".into()
            ),
            (
                "bo@harbour.example".into(),
                "invitation".into(),
                "sent".into()
            ),
        ]
    );
}

#[test]
fn audit_verify_finds_an_entry_edited_in_the_database_file() {
    let mut cluster = Cluster::start(0);
    for name in ["Harbour Ltd", "Quarry AS", "Depot ApS"] {
        let (status, body) = cluster.operator(
            "POST",
            "/api/v1/organisations",
            Some(json!({ "kind": "customer", "name": name })),
        );
        assert_eq!(status, 201, "{body}");
    }
    let config = cluster.dir.path().join("hub/hub.toml");
    let verify = || {
        Command::new(binary("picket-hub"))
            .args(["audit", "verify", "--config"])
            .arg(&config)
            .output()
            .expect("picket-hub audit verify")
    };
    let out = verify();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{text}");
    assert!(
        text.starts_with("audit log intact: 3 entries, head "),
        "{text}"
    );
    let head = text.trim().rsplit(' ').next().expect("head").to_owned();
    // A head kept from earlier is found in the chain; one that is not there
    // means the chain was rewritten.
    let with_head = |expected: &str| {
        Command::new(binary("picket-hub"))
            .args(["audit", "verify", "--expect-head", expected, "--config"])
            .arg(&config)
            .output()
            .expect("picket-hub audit verify")
    };
    assert!(with_head(&head).status.success());
    let rewritten = with_head(&"ab".repeat(32));
    assert_eq!(rewritten.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&rewritten.stdout).contains("REWRITTEN"));

    if let Some(mut hub) = cluster.hub.take() {
        hub.stop();
    }
    // Someone with the file: remove the guard and rename an organisation in
    // the second entry.
    let db = rusqlite::Connection::open(cluster.dir.path().join("hub/data/hub.db")).expect("db");
    db.execute_batch(
        "DROP TRIGGER audit_no_update;
         UPDATE audit SET detail = replace(detail, 'Quarry', 'Quarrel') WHERE seq = 2;",
    )
    .expect("tamper");
    drop(db);
    let out = verify();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("BROKEN at entry 2"), "{text}");
}

#[test]
fn repeated_wrong_passwords_are_throttled_over_http() {
    let cluster = Cluster::start(0);
    let login = json!({ "email": "someone@harbour.example", "password": "not the password" });
    for _ in 0..6 {
        let (status, _, _) = http_with(
            cluster.api,
            "POST",
            "/api/v1/session",
            Some(login.clone()),
            "",
        )
        .expect("API");
        assert_eq!(status, 401);
    }
    let (status, head, body) =
        http_with(cluster.api, "POST", "/api/v1/session", Some(login), "").expect("API");
    assert_eq!(status, 429, "{body}");
    assert!(
        head.to_ascii_lowercase().contains("retry-after: "),
        "{head}"
    );
    assert!(
        body["error"].as_str().expect("error").contains("try again"),
        "{body}"
    );
}

#[test]
fn an_alarm_is_emailed_at_once_and_the_daily_summary_goes_out_at_its_local_time() {
    // The daily summary is due from 00:00 in the site's time zone, i.e. at
    // once: yesterday's summary goes out on the report task's first round.
    // (The exact local hour across DST changes is tested in simulated time:
    // hub/src/reports/schedule.rs.)
    let (mut cluster, _smtp, maildir) =
        cluster_with_mail_and(1, "[reports]\ndaily_at = \"00:00\"\n");
    cluster.site_with_schedule(&["00:00-24:00"]);
    let site = picket_tests::cluster::SITE;
    let (status, body) = cluster.operator(
        "PUT",
        &format!("/api/v1/sites/{site}/report-recipients"),
        Some(json!([
            { "email": "ops@yard.example", "instant": true },
            { "email": "boss@yard.example", "daily": true }
        ])),
    );
    assert_eq!(status, 200, "{body}");
    let daily = mail_to(&maildir, "boss@yard.example", "Daily report for Test yard");
    assert!(daily.contains("Alarms: 0"), "{daily}");
    cluster.start_agent(0);
    wait_for("the unit armed", Duration::from_secs(30), || {
        cluster
            .unit_view(0)
            .filter(|u| u["state"]["state"] == "armed" && u["pending"] == false)
    });
    assert!(
        cluster.trigger(0, "pir"),
        "the simulator delivered the trigger"
    );
    let instant = mail_to(&maildir, "ops@yard.example", "Alarm at Test yard: pir");
    assert!(
        instant.contains("https://hub.picket.example/alarms/"),
        "{instant}"
    );
    assert!(
        !mails(&maildir)
            .iter()
            .any(|m| m.contains("X-RcptTo: boss@yard.example") && m.contains("Alarm at")),
        "daily-only recipients get no instant e-mails"
    );
    let (status, sends) =
        cluster.operator("GET", &format!("/api/v1/sites/{site}/report-sends"), None);
    assert_eq!(status, 200, "{sends}");
    let kinds: Vec<(String, String, String)> = sends
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["kind"].as_str().unwrap().to_owned(),
                s["recipient"].as_str().unwrap().to_owned(),
                s["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        kinds.contains(&("daily".into(), "boss@yard.example".into(), "sent".into())),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("instant".into(), "ops@yard.example".into(), "sent".into())),
        "{kinds:?}"
    );
}
