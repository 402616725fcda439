//! Simulated RTSP cameras (`picket-sim camera`): test pictures with a
//! burned-in, machine-readable capture instant and frame number, so a test
//! can decode a clip or a live stream and tell exactly which instants it
//! covers; and a camera loss on command.
//!
//! - [`spec`]: what a camera serves (`north:640x360@15,bitrate=800`), parsed
//!   and validated.
//! - [`stamp`]: the stamp's format; [`stamp::paint`] and [`stamp::read`] on
//!   a luma plane. Pure, and meant for other crates' tests.
//! - [`CameraServer`]: a GStreamer RTSP server on its own GLib thread, one
//!   shared pipeline per camera (`videotestsrc` → stamp → `x264enc` or
//!   `x265enc` → RTP), each at `/<name>`. [`CameraHandle`] drops and
//!   restores a camera's stream.
//! - [`control`]: the `--control` socket (`{"drop":"north"}` →
//!   `{"ok":true}`) and its client.

pub mod control;
mod pipeline;
mod server;
pub mod spec;
pub mod stamp;

use std::net::SocketAddr;

pub use server::{CameraHandle, CameraServer, Credentials, ServerConfig};
pub use spec::{CameraName, CameraSpec, Codec, SpecError};

/// Why the camera server could not start or do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CameraError {
    /// A camera spec is invalid or two cameras share a name.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// GStreamer could not be initialised or set up.
    #[error("GStreamer: {0}")]
    Init(String),
    /// A GStreamer element a camera needs is not installed.
    #[error(
        "GStreamer element {element} is not installed (Debian package {package}; deploy/setup.sh installs it)"
    )]
    MissingElement {
        /// The element.
        element: &'static str,
        /// The Debian package that has it.
        package: &'static str,
    },
    /// The RTSP port could not be bound.
    #[error("listening for RTSP on {address}: {detail}")]
    Bind {
        /// The address asked for.
        address: SocketAddr,
        /// GLib's reason.
        detail: String,
    },
    /// No camera has this name.
    #[error("unknown camera {name:?} (cameras: {known})")]
    UnknownCamera {
        /// The name asked for.
        name: String,
        /// The cameras there are, comma-separated.
        known: String,
    },
    /// The server has stopped.
    #[error("the camera server has stopped")]
    Stopped,
}
