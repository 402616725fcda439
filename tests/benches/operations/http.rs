//! A minimal HTTP/1.1 client that times exactly the request (one write,
//! TCP_NODELAY, clock stopped at the last byte), the bench's sign-in, and
//! the percentile lines. The same pattern as the access bench's `http.rs`
//! (bench files are separate binaries, so it is copied, not shared).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::PASSWORD;

/// Requests per figure, after [`WARM_UP`] untimed ones.
pub(crate) const REQUESTS: usize = 200;
pub(crate) const WARM_UP: usize = 5;
/// The most one figure may take; a figure cut short says so.
pub(crate) const REQUEST_BUDGET: Duration = Duration::from_secs(15);

/// Signs in (a wrong password would count towards the per-address
/// throttle, so a failure stops the bench) and returns the cookie header.
pub(crate) fn sign_in(addr: SocketAddr, email: &str) -> String {
    let body = serde_json::json!({ "email": email, "password": PASSWORD }).to_string();
    let response = request(
        addr,
        "POST",
        "/api/v1/session",
        "Content-Type: application/json\r\n",
        &body,
    )
    .expect("sign in");
    assert_eq!(
        response.status,
        200,
        "sign in as {email}: {}",
        response.text()
    );
    let cookie = response
        .head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
        .find_map(|(_, value)| value.trim().split(';').next())
        .filter(|c| c.starts_with("picket_session="))
        .unwrap_or_else(|| panic!("no session cookie for {email}: {}", response.head));
    format!("Cookie: {cookie}\r\n")
}

pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) head: String,
    pub(crate) body: Vec<u8>,
    pub(crate) took: Duration,
}

impl Response {
    /// The start of the body, for error messages.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.payload())
            .chars()
            .take(300)
            .collect()
    }

    /// The body, de-chunked if it came chunked.
    pub(crate) fn payload(&self) -> Vec<u8> {
        if self.head.to_ascii_lowercase().contains("chunked") {
            dechunk(&self.body)
        } else {
            self.body.clone()
        }
    }

    pub(crate) fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.payload()).ok()
    }
}

/// One request on its own connection, sent in one write with TCP_NODELAY
/// and timed from connecting to the last byte of the response (before any
/// parsing).
pub(crate) fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &str,
    body: &str,
) -> std::io::Result<Response> {
    let text = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let t = Instant::now();
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.write_all(text.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let took = t.elapsed();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = raw.get(split + 4..).unwrap_or_default().to_vec();
    Ok(Response {
        status,
        head,
        body,
        took,
    })
}

/// What [`time_requests`] measured.
pub(crate) struct Run {
    pub(crate) samples: Vec<Duration>,
    /// Entries in the last answer: its length if an array, else the length
    /// of its `units` array (the transmission report).
    pub(crate) items: Option<usize>,
    pub(crate) bytes: usize,
    pub(crate) cut_short: bool,
}

impl Run {
    pub(crate) fn describe(&self) -> String {
        let items = match self.items {
            Some(n) => format!("{n} entries, "),
            None => String::new(),
        };
        let size = if self.bytes < 10 * 1024 {
            format!("{} bytes", self.bytes)
        } else {
            format!("{:.1} KiB", self.bytes as f64 / 1024.0)
        };
        format!(
            "{} ({items}{size} per response{})",
            ms_figures(&self.samples),
            if self.cut_short {
                format!(
                    "; only {} of {REQUESTS} fit in {} s",
                    self.samples.len(),
                    REQUEST_BUDGET.as_secs()
                )
            } else {
                String::new()
            }
        )
    }
}

/// [`WARM_UP`] requests, then up to [`REQUESTS`] timed ones within
/// [`REQUEST_BUDGET`]; every answer must be a 200.
pub(crate) fn time_requests(addr: SocketAddr, path: &str, headers: &str) -> Result<Run, String> {
    let mut samples = Vec::with_capacity(REQUESTS);
    let mut last = None;
    let mut deadline = Instant::now() + REQUEST_BUDGET;
    for i in 0..WARM_UP + REQUESTS {
        if i == WARM_UP {
            deadline = Instant::now() + REQUEST_BUDGET;
        }
        let response = request(addr, "GET", path, headers, "").map_err(|e| e.to_string())?;
        if response.status != 200 {
            return Err(format!(
                "request {i}: status {}: {}",
                response.status,
                response.text()
            ));
        }
        if i >= WARM_UP {
            samples.push(response.took);
        }
        last = Some(response);
        if i >= WARM_UP && Instant::now() > deadline {
            break;
        }
    }
    let last = last.ok_or("no response")?;
    let body = last.payload();
    let items = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| match v {
            serde_json::Value::Array(a) => Some(a.len()),
            other => other.get("units")?.as_array().map(Vec::len),
        });
    Ok(Run {
        cut_short: samples.len() < REQUESTS,
        samples,
        items,
        bytes: body.len(),
    })
}

/// The payload of a chunked HTTP/1.1 body.
pub(crate) fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&raw[..end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next()?.trim(), 16).ok())
            .unwrap_or(0);
        let start = end + 2;
        if size == 0 || raw.len() < start + size {
            break;
        }
        out.extend_from_slice(&raw[start..start + size]);
        raw = raw.get(start + size + 2..).unwrap_or_default();
    }
    out
}

pub(crate) fn percentile(samples: &[Duration], q: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let index = ((sorted.len().saturating_sub(1)) as f64 * q).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

pub(crate) fn ms_figures(samples: &[Duration]) -> String {
    let ms = |q| percentile(samples, q).as_secs_f64() * 1000.0;
    format!(
        "p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms (n={})",
        ms(0.50),
        ms(0.90),
        ms(0.99),
        ms(1.0),
        samples.len()
    )
}
