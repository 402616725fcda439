//! `GET /api/v1/clips/{id}`: a clip or thumbnail of an alarm, for those who
//! may see the site's clips (customers' sharing and dealer access apply),
//! with HTTP range requests so a phone can seek; every fetch is audited.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::Extension;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use picket_access::{Permission, Target};
use tokio::io::{AsyncRead, ReadBuf};

use super::caller::Caller;
use super::{ApiError, ApiState};
use crate::clips::storage::ClipStoreError;

/// A byte range of a file of `size` bytes, from a `Range` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// First byte.
    pub start: u64,
    /// Last byte (inclusive).
    pub end: u64,
}

/// Parses a single-range `bytes=` header against `size`: `a-b`, `a-` and
/// `-n` (the last n). `Ok(None)`: no usable range, send everything (an
/// unknown unit or several ranges); `Err`: unsatisfiable (416).
pub fn parse_range(value: &str, size: u64) -> Result<Option<ByteRange>, ()> {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') || size == 0 {
        return Ok(None);
    }
    let (a, b) = spec.split_once('-').ok_or(())?;
    let (a, b) = (a.trim(), b.trim());
    let range = match (a.is_empty(), b.is_empty()) {
        (true, true) => return Err(()),
        (true, false) => {
            let n: u64 = b.parse().map_err(|_| ())?;
            if n == 0 {
                return Err(());
            }
            ByteRange {
                start: size.saturating_sub(n),
                end: size - 1,
            }
        }
        (false, _) => {
            let start: u64 = a.parse().map_err(|_| ())?;
            let end: u64 = if b.is_empty() {
                size - 1
            } else {
                b.parse::<u64>().map_err(|_| ())?.min(size - 1)
            };
            if start > end || start >= size {
                return Err(());
            }
            ByteRange { start, end }
        }
    };
    Ok(Some(range))
}

/// `GET /clips/{id}`.
pub async fn download(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id: uuid::Uuid = id
        .parse()
        .map_err(|e| ApiError::Invalid(format!("clip: {e}")))?;
    let row = state
        .with_store(move |s| Ok(s.clip(id)?))
        .await?
        .filter(|r| r.completed_at.is_some())
        .ok_or_else(|| ApiError::NotFound(format!("clip {id} not found")))?;
    match row.site {
        Some(site) => caller.check(&state, Permission::ViewClips, &Target::Site(site))?,
        None if caller.actor.is_none() => {}
        None => return Err(ApiError::NotFound(format!("clip {id} not found"))),
    }
    let files = state
        .clips()
        .ok_or_else(|| ApiError::Internal("no clip storage configured".into()))?;
    let kind = row.declared.kind;
    let size = row.declared.size;
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(value) => match parse_range(value, size) {
            Ok(range) => range,
            Err(()) => {
                let mut response = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                    response.headers_mut().insert(header::CONTENT_RANGE, v);
                }
                return Ok(response);
            }
        },
        None => None,
    };
    let audit = caller.audit(
        "clip.view",
        format!("clip:{id}"),
        row.site.and_then(|s| state.site_org(s)),
        serde_json::json!({ "event": row.declared.event, "camera": row.declared.camera,
                            "range": range.map(|r| format!("{}-{}", r.start, r.end)) }),
    );
    let now = state.clock().now();
    state
        .with_store(move |s| Ok(s.audit(&audit, now).map(|_| ())?))
        .await?;
    let (status, start, len) = match range {
        Some(r) => (StatusCode::PARTIAL_CONTENT, r.start, r.end - r.start + 1),
        None => (StatusCode::OK, 0, size),
    };
    let reader = files
        .read_range(id, kind, start, len)
        .await
        .map_err(|e| match e {
            // Retention removed it since the row was read.
            ClipStoreError::NotFound { .. } => ApiError::NotFound(format!("clip {id} not found")),
            other => ApiError::Internal(format!("clip {id}: {other}")),
        })?;
    let mut response = Response::new(Body::new(ObjectBody {
        reader,
        remaining: len,
        buffer: vec![0; 64 * 1024],
    }));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(kind.content_type()),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    if let Some(r) = range
        && let Ok(v) = HeaderValue::from_str(&format!("bytes {}-{}/{size}", r.start, r.end))
    {
        h.insert(header::CONTENT_RANGE, v);
    }
    Ok(response)
}

/// How long a site keeps its clips.
#[derive(Debug, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    days: u16,
}

/// The longest retention a site may choose.
pub const MAX_RETENTION_DAYS: u16 = 365;

/// `GET /sites/{site}/clip-retention`.
pub async fn retention(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(site): Path<String>,
) -> Result<axum::Json<Retention>, ApiError> {
    let site = super::sites::parse_site(&site)?;
    caller.check(&state, Permission::ViewSites, &Target::Site(site))?;
    let days = state
        .with_store(move |s| Ok(s.clip_retention(site)?))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("site {site} not found")))?;
    Ok(axum::Json(Retention { days }))
}

/// `PUT /sites/{site}/clip-retention` `{"days": 1..=365}`: clips older than
/// this are deleted (the customer's choice; audited).
pub async fn set_retention(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(site): Path<String>,
    super::ApiJson(body): super::ApiJson<Retention>,
) -> Result<axum::Json<Retention>, ApiError> {
    let site = super::sites::parse_site(&site)?;
    caller.check(&state, Permission::ManageSites, &Target::Site(site))?;
    if body.days == 0 || body.days > MAX_RETENTION_DAYS {
        return Err(ApiError::Invalid(format!(
            "days: 1 to {MAX_RETENTION_DAYS}"
        )));
    }
    let audit = caller.audit(
        "site.clip_retention.set",
        format!("site:{site}"),
        state.site_org(site),
        serde_json::json!({ "days": body.days }),
    );
    let now = state.clock().now();
    let days = body.days;
    state
        .with_store(move |s| Ok(s.set_clip_retention(site, days, &audit, now)?))
        .await?;
    Ok(axum::Json(Retention { days }))
}

/// Streams `remaining` bytes of a stored object in 64 KiB frames.
struct ObjectBody {
    reader: Pin<Box<dyn AsyncRead + Send>>,
    remaining: u64,
    buffer: Vec<u8>,
}

impl http_body::Body for ObjectBody {
    type Data = axum::body::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        if this.remaining == 0 {
            return Poll::Ready(None);
        }
        let want = this.buffer.len().min(this.remaining as usize);
        let mut buf = ReadBuf::new(&mut this.buffer[..want]);
        match this.reader.as_mut().poll_read(cx, &mut buf) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
            Poll::Ready(Ok(())) => {
                let n = buf.filled().len();
                if n == 0 {
                    return Poll::Ready(Some(Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the stored clip is shorter than recorded",
                    ))));
                }
                this.remaining -= n as u64;
                let chunk = axum::body::Bytes::copy_from_slice(buf.filled());
                Poll::Ready(Some(Ok(http_body::Frame::data(chunk))))
            }
        }
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_http_says() {
        let r = |start, end| Ok(Some(ByteRange { start, end }));
        assert_eq!(parse_range("bytes=0-99", 1000), r(0, 99));
        assert_eq!(parse_range("bytes=900-", 1000), r(900, 999));
        assert_eq!(parse_range("bytes=-100", 1000), r(900, 999));
        assert_eq!(parse_range("bytes=-5000", 1000), r(0, 999));
        assert_eq!(parse_range("bytes=500-5000", 1000), r(500, 999), "clamped");
        assert_eq!(parse_range("bytes=0-0", 1), r(0, 0));
        assert_eq!(parse_range("bytes=1000-", 1000), Err(()));
        assert_eq!(parse_range("bytes=5-4", 1000), Err(()));
        assert_eq!(parse_range("bytes=-0", 1000), Err(()));
        assert_eq!(parse_range("bytes=x-1", 1000), Err(()));
        assert_eq!(parse_range("bytes=0-1,5-6", 1000), Ok(None), "several: all");
        assert_eq!(parse_range("lines=1-2", 1000), Ok(None));
    }
}
