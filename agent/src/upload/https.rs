//! A minimal HTTPS client for the hub's units' listener: one request per
//! connection (`Connection: close`), the unit's certificate presented,
//! only the hub's CA trusted, bounded waits.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// The largest answer the hub sends (JSON bodies are small).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Why a request did not get an answer.
#[derive(Debug, thiserror::Error)]
pub enum HttpsError {
    /// The `https` setting is not a usable URL.
    #[error("https setting {0:?}: expected https://host:port")]
    Url(String),
    /// Connecting, TLS, sending or reading failed (worth retrying).
    #[error("talking to the hub at {addr}: {detail}")]
    Link {
        /// The hub.
        addr: String,
        /// What went wrong.
        detail: String,
    },
    /// The hub's answer is not HTTP as expected.
    #[error("the hub's answer is not understood: {0}")]
    Answer(String),
}

/// An answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The `Upload-Offset` header, if any.
    pub offset: Option<u64>,
    /// The JSON body (`Null` when empty or not JSON).
    pub body: serde_json::Value,
}

/// The hub's units' HTTPS endpoint.
#[derive(Debug, Clone)]
pub struct HubHttps {
    addr: String,
    name: ServerName<'static>,
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
}

impl HubHttps {
    /// From the unit's `https` setting (`https://host:port`) and its TLS
    /// client configuration.
    pub fn new(url: &str, tls: Arc<rustls::ClientConfig>) -> Result<HubHttps, HttpsError> {
        let rest = url
            .strip_prefix("https://")
            .ok_or_else(|| HttpsError::Url(url.to_owned()))?
            .trim_end_matches('/');
        let (host, port) = rest
            .rsplit_once(':')
            .ok_or_else(|| HttpsError::Url(url.to_owned()))?;
        port.parse::<u16>()
            .map_err(|_| HttpsError::Url(url.to_owned()))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let name =
            ServerName::try_from(host.to_owned()).map_err(|_| HttpsError::Url(url.to_owned()))?;
        Ok(HubHttps {
            addr: rest.to_owned(),
            name,
            tls,
            timeout: Duration::from_secs(30),
        })
    }

    /// Sends one request; `offset` becomes `Upload-Offset`.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        offset: Option<u64>,
        json: bool,
        body: &[u8],
    ) -> Result<Answer, HttpsError> {
        tokio::time::timeout(
            self.timeout,
            self.exchange(method, path, offset, json, body),
        )
        .await
        .map_err(|_| self.link(format!("no answer within {:?}", self.timeout)))?
    }

    fn link(&self, detail: String) -> HttpsError {
        HttpsError::Link {
            addr: self.addr.clone(),
            detail,
        }
    }

    /// A TLS connection to the hub with the unit's certificate.
    async fn connect(&self) -> Result<tokio_rustls::client::TlsStream<TcpStream>, HttpsError> {
        let tcp = tokio::time::timeout(self.timeout, TcpStream::connect(&self.addr))
            .await
            .map_err(|_| self.link(format!("no connection within {:?}", self.timeout)))?
            .map_err(|e| self.link(e.to_string()))?;
        let _ = tcp.set_nodelay(true);
        tokio::time::timeout(
            self.timeout,
            TlsConnector::from(self.tls.clone()).connect(self.name.clone(), tcp),
        )
        .await
        .map_err(|_| self.link(format!("no TLS handshake within {:?}", self.timeout)))?
        .map_err(|e| self.link(format!("TLS: {e}")))
    }

    /// Sends a request whose body is every chunk `chunks` yields, as they
    /// come (HTTP/1.1 chunked), until it closes; then reads the answer.
    /// For streams with no end known in advance (live video).
    pub async fn stream(
        &self,
        path: &str,
        mut chunks: tokio::sync::mpsc::Receiver<Vec<u8>>,
    ) -> Result<Answer, HttpsError> {
        let mut tls = self.connect().await?;
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n",
            self.addr
        );
        let sent = self
            .send_chunks(&mut tls, head.as_bytes(), &mut chunks)
            .await;
        // The hub may answer (and close) before the body ends — it refused
        // the stream, or ended it: that answer is the outcome, not the
        // broken pipe that sending into the closed connection then gives.
        let answer = tokio::time::timeout(self.timeout, read_answer(&mut tls)).await;
        match (answer, sent) {
            (Ok(Ok(raw)), _) if !raw.is_empty() => parse_answer(&raw),
            (_, Err(e)) => Err(e),
            (Err(_), Ok(())) => Err(self.link(format!("no answer within {:?}", self.timeout))),
            (Ok(Err(e)), Ok(())) => Err(self.link(e.to_string())),
            (Ok(Ok(_)), Ok(())) => Err(self.link("the hub closed without answering".into())),
        }
    }

    /// Writes the request head, then each chunk as it comes, then the end.
    async fn send_chunks(
        &self,
        tls: &mut tokio_rustls::client::TlsStream<TcpStream>,
        head: &[u8],
        chunks: &mut tokio::sync::mpsc::Receiver<Vec<u8>>,
    ) -> Result<(), HttpsError> {
        tls.write_all(head)
            .await
            .map_err(|e| self.link(e.to_string()))?;
        tls.flush().await.map_err(|e| self.link(e.to_string()))?;
        while let Some(chunk) = chunks.recv().await {
            if chunk.is_empty() {
                continue;
            }
            let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
            framed.extend_from_slice(&chunk);
            framed.extend_from_slice(b"\r\n");
            // A hub that stops reading (it ended the stream) is not a
            // reason to wait forever.
            tokio::time::timeout(self.timeout, tls.write_all(&framed))
                .await
                .map_err(|_| self.link(format!("the hub took no data for {:?}", self.timeout)))?
                .map_err(|e| self.link(e.to_string()))?;
        }
        tls.write_all(b"0\r\n\r\n")
            .await
            .map_err(|e| self.link(e.to_string()))?;
        tls.flush().await.map_err(|e| self.link(e.to_string()))
    }

    async fn exchange(
        &self,
        method: &str,
        path: &str,
        offset: Option<u64>,
        json: bool,
        body: &[u8],
    ) -> Result<Answer, HttpsError> {
        let mut tls = self.connect().await?;
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        if let Some(o) = offset {
            head.push_str(&format!("Upload-Offset: {o}\r\n"));
        }
        if json {
            head.push_str("Content-Type: application/json\r\n");
        }
        head.push_str("\r\n");
        tls.write_all(head.as_bytes())
            .await
            .map_err(|e| self.link(e.to_string()))?;
        tls.write_all(body)
            .await
            .map_err(|e| self.link(e.to_string()))?;
        tls.flush().await.map_err(|e| self.link(e.to_string()))?;
        let raw = read_answer(&mut tls).await.map_err(|e| match e {
            AnswerError::Io(e) => self.link(e.to_string()),
            AnswerError::TooLong => HttpsError::Answer("longer than 64 KiB".into()),
        })?;
        parse_answer(&raw)
    }
}

/// Why an answer could not be read.
#[derive(Debug, thiserror::Error)]
enum AnswerError {
    #[error("{0}")]
    Io(std::io::Error),
    #[error("the answer is longer than 64 KiB")]
    TooLong,
}

/// Reads an answer to the end of the connection.
async fn read_answer(
    tls: &mut tokio_rustls::client::TlsStream<TcpStream>,
) -> Result<Vec<u8>, AnswerError> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match tls.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => {
                raw.extend_from_slice(&buf[..n]);
                if raw.len() > MAX_ANSWER_BYTES {
                    return Err(AnswerError::TooLong);
                }
            }
            // The hub may close without close_notify after answering.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => break,
            Err(e) => return Err(AnswerError::Io(e)),
        }
    }
    Ok(raw)
}

/// Parses an HTTP/1.1 answer read to its end.
pub fn parse_answer(raw: &[u8]) -> Result<Answer, HttpsError> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| HttpsError::Answer("no end of headers".into()))?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.strip_prefix("HTTP/1.1 "))
        .and_then(|l| l.get(..3))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| HttpsError::Answer("no HTTP/1.1 status line".into()))?;
    let offset = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("upload-offset"))
        .and_then(|(_, v)| v.trim().parse().ok());
    Ok(Answer {
        status,
        offset,
        body: serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_with_their_offset_and_json() {
        let a = parse_answer(
            b"HTTP/1.1 409 Conflict\r\ncontent-type: application/json\r\nUpload-Offset: 400\r\n\r\n{\"error\":\"resume from 400\"}",
        )
        .unwrap();
        assert_eq!(a.status, 409);
        assert_eq!(a.offset, Some(400));
        assert_eq!(a.body["error"], "resume from 400");
        let a = parse_answer(b"HTTP/1.1 200 OK\r\n\r\n").unwrap();
        assert_eq!(
            (a.status, a.offset, a.body),
            (200, None, serde_json::Value::Null)
        );
        assert!(parse_answer(b"garbage").is_err());
        assert!(parse_answer(b"SPDY/9 200\r\n\r\n").is_err());
    }

    #[test]
    fn the_https_setting_must_name_a_host_and_port() {
        let tls = Arc::new(
            rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth(),
        );
        assert!(HubHttps::new("https://127.0.0.1:8443", tls.clone()).is_ok());
        assert!(HubHttps::new("https://hub.example.net:8443/", tls.clone()).is_ok());
        for bad in ["http://hub:8443", "https://hub", "https://hub:port"] {
            assert!(HubHttps::new(bad, tls.clone()).is_err(), "{bad}");
        }
    }
}
