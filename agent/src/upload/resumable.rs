//! One file's resumable upload (the hub's protocol: `picket_hub::clips`):
//! declare it, learn the offset the hub has, send the rest in chunks from
//! there. Refusals that no retry can fix end the upload with their reason;
//! a broken link is an error the caller retries (with [`upload_with_retries`]
//! it backs off and resumes).

use std::path::Path;
use std::time::Duration;

use jiff::Timestamp;
use picket_proto::clock::Clock;
use picket_proto::ids::{CameraId, EventId};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::https::{HttpsError, HubHttps};
use super::pace::{AfterFailure, Budget, Retry};

/// The default chunk: large enough that a handshake per chunk costs little,
/// small enough that a cut link loses little.
pub const CHUNK_BYTES: usize = 1024 * 1024;

/// What the unit says about a file.
#[derive(Debug, Clone, Serialize)]
pub struct Declaration {
    /// The file's id (a UUIDv7 made on the unit; the same on every retry).
    pub id: uuid::Uuid,
    /// The alarm it shows.
    pub event: EventId,
    /// The camera.
    pub camera: CameraId,
    /// `clip` or `thumbnail`.
    pub kind: &'static str,
    /// First frame.
    pub started_at: Option<Timestamp>,
    /// Last frame.
    pub ended_at: Option<Timestamp>,
}

/// How an upload ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The hub has the whole file, verified: the unit may delete its copy.
    Complete,
    /// The hub will not take it now, and says why (the clip stays on
    /// disk). 404 means the hub does not know the alarm yet (its event is
    /// still on its way over MQTT): worth trying again later.
    Refused {
        /// HTTP status.
        status: u16,
        /// The hub's reason.
        reason: String,
    },
}

/// Why an attempt stopped short.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The link or the hub failed: try again later.
    #[error(transparent)]
    Link(#[from] HttpsError),
    /// The hub answered with a server error: try again later.
    #[error("the hub failed ({status}): {detail}")]
    Hub {
        /// HTTP status.
        status: u16,
        /// Its message.
        detail: String,
    },
    /// The file on the unit could not be read.
    #[error("reading clip file {path}: {source}")]
    File {
        /// Which.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

fn file_error(path: &Path) -> impl FnOnce(std::io::Error) -> UploadError + '_ {
    move |source| UploadError::File {
        path: path.display().to_string(),
        source,
    }
}

/// Size and SHA-256 of a file.
pub async fn digest(path: &Path) -> Result<(u64, String), UploadError> {
    let owned = path.to_path_buf();
    tokio::task::spawn_blocking(move || -> std::io::Result<(u64, String)> {
        use std::io::Read;
        let mut file = std::fs::File::open(&owned)?;
        let mut context = ring::digest::Context::new(&ring::digest::SHA256);
        let mut buffer = vec![0u8; 256 * 1024];
        let mut size = 0u64;
        loop {
            let n = file.read(&mut buffer)?;
            if n == 0 {
                break;
            }
            size += n as u64;
            context.update(&buffer[..n]);
        }
        let hex = context
            .finish()
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok((size, hex))
    })
    .await
    .map_err(|e| file_error(path)(std::io::Error::other(e.to_string())))?
    .map_err(file_error(path))
}

fn refusal(answer: &super::https::Answer) -> String {
    answer.body["error"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("HTTP {}", answer.status))
}

/// One attempt: declares `path` and sends what the hub lacks, pacing with
/// `budget`. Returns at completion, at a refusal, or with the error that
/// broke the attempt (the next attempt resumes where the hub is).
/// `accepted` counts the bytes the hub took during this attempt.
pub async fn upload(
    hub: &HubHttps,
    path: &Path,
    declared: &Declaration,
    chunk: usize,
    budget: &mut Budget,
    clock: &dyn Clock,
    accepted: &mut u64,
) -> Result<Outcome, UploadError> {
    let (size, sha256) = digest(path).await?;
    let mut body = serde_json::to_value(declared).unwrap_or_default();
    body["size"] = size.into();
    body["sha256"] = sha256.into();
    let answer = hub
        .request(
            "POST",
            "/unit/v1/uploads",
            None,
            true,
            body.to_string().as_bytes(),
        )
        .await?;
    match answer.status {
        200 => {}
        500..=599 => {
            return Err(UploadError::Hub {
                status: answer.status,
                detail: refusal(&answer),
            });
        }
        status => {
            return Ok(Outcome::Refused {
                status,
                reason: refusal(&answer),
            });
        }
    }
    if answer.body["complete"] == true {
        return Ok(Outcome::Complete);
    }
    let mut offset = answer.offset.unwrap_or(0);
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(file_error(path))?;
    let target = format!("/unit/v1/uploads/{}", declared.id);
    let mut buffer = vec![0u8; chunk.max(1)];
    loop {
        let len = (size - offset).min(buffer.len() as u64) as usize;
        file.seek(std::io::SeekFrom::Start(offset))
            .await
            .map_err(file_error(path))?;
        file.read_exact(&mut buffer[..len])
            .await
            .map_err(file_error(path))?;
        let wait = budget.wait_for(len as u64, clock.now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        budget.spend(len as u64, clock.now());
        let answer = hub
            .request("PATCH", &target, Some(offset), false, &buffer[..len])
            .await?;
        match (answer.status, answer.offset) {
            (200, _) if answer.body["complete"] == true => return Ok(Outcome::Complete),
            (200, Some(next)) if next > offset => {
                *accepted += next - offset;
                offset = next;
            }
            // The hub has another offset (a chunk it kept before the link
            // broke, or one it lost): continue from its.
            (409, Some(theirs)) if theirs <= size => offset = theirs,
            (500..=599, _) => {
                return Err(UploadError::Hub {
                    status: answer.status,
                    detail: refusal(&answer),
                });
            }
            (status, _) => {
                return Ok(Outcome::Refused {
                    status,
                    reason: refusal(&answer),
                });
            }
        }
    }
}

/// How [`upload_with_retries`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Complete or refused (see [`Outcome`]).
    Done(Outcome),
    /// Too many failures in a row: left for a later round, still on disk.
    Later(String),
}

/// Uploads `path`, resuming after broken attempts with backoff, until it is
/// complete, refused, or [`Retry::GIVE_UP_AFTER`] attempts in a row made no
/// progress.
pub async fn upload_with_retries(
    hub: &HubHttps,
    path: &Path,
    declared: &Declaration,
    budget: &mut Budget,
    clock: &dyn Clock,
) -> Delivery {
    let mut retry = Retry::default();
    loop {
        let mut accepted = 0;
        match upload(
            hub,
            path,
            declared,
            CHUNK_BYTES,
            budget,
            clock,
            &mut accepted,
        )
        .await
        {
            Ok(outcome) => return Delivery::Done(outcome),
            Err(e) => {
                if accepted > 0 {
                    retry.succeeded();
                }
                let mut random = [0u8; 2];
                let _ = getrandom::fill(&mut random);
                match retry.failed(u16::from_le_bytes(random)) {
                    AfterFailure::RetryIn(delay) => {
                        tracing::info!(upload = %declared.id, error = %e, ?delay, "clip upload interrupted; resuming");
                        tokio::time::sleep(delay.min(Duration::from_secs(30))).await;
                    }
                    AfterFailure::GiveUp => return Delivery::Later(e.to_string()),
                }
            }
        }
    }
}
