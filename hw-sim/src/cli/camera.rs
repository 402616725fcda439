//! `picket-sim camera`: serve simulated RTSP cameras.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use picket_sim::camera::control::ControlServer;
use picket_sim::camera::{CameraServer, CameraSpec, Credentials, ServerConfig, stamp};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::oneshot;

/// Serve simulated RTSP cameras until Ctrl-C or SIGTERM.
///
/// Each camera sends a moving test picture (GStreamer videotestsrc), H.264
/// constrained baseline or H.265, from one shared encoder however many
/// clients watch. Every frame carries a machine-readable stamp in its
/// top-left 256x128 pixels: the instant it was captured (Unix ms) and its
/// frame number, as 16x16-pixel black and white blocks with a checksum
/// (format: picket_sim::camera::stamp). Keyframes come exactly every
/// keyint frames: frame numbers divisible by keyint are keyframes (a
/// client joining between two waits for the next). A human-readable clock
/// is drawn in the bottom-right corner of pictures at least 176 px high
/// when GStreamer's clockoverlay is installed (Debian's gstreamer1.0-x).
///
/// Prints each camera's URL on start. With --control, a camera's stream
/// can be dropped and restored while running (`picket-sim camera-control`).
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Address and port to serve RTSP on. Port 0 picks a free port (the
    /// printed URLs show it).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8554")]
    listen: SocketAddr,
    /// A camera, served at rtsp://ADDR:PORT/NAME. Repeat for more cameras
    /// (names must differ). SPEC is
    /// NAME[:WIDTHxHEIGHT][@FPS][,bitrate=KBIT][,keyint=FRAMES][,codec=h264|h265][,picture=ball|noise]:
    /// NAME is 1-32 letters, digits, '-' or '_'; WIDTHxHEIGHT even numbers,
    /// at least 256x128 (default 640x360); FPS 1-60 (default 15); bitrate
    /// in kbit/s, 50-50000 (default 1000); keyint a keyframe every this
    /// many frames, 1-1000 (default 2 s worth: FPS x 2); codec h264
    /// (default) or h265; picture ball (default; compresses far below the
    /// bitrate) or noise (runs the encoder at its bitrate, for measuring).
    #[arg(long = "camera", value_name = "SPEC", required = true)]
    cameras: Vec<CameraSpec>,
    /// Require RTSP basic authentication with this user name (give
    /// --password too). Clients put both in the URL:
    /// rtsp://USER:PASSWORD@ADDR:PORT/NAME.
    #[arg(long, value_name = "USER", requires = "password")]
    user: Option<String>,
    /// The password for --user.
    #[arg(long, value_name = "PASSWORD", requires = "user")]
    password: Option<String>,
    /// Listen for control requests on this Unix socket: one JSON object per
    /// line, {"drop":"NAME"} (disconnect the camera's clients, refuse new
    /// ones with 404) or {"restore":"NAME"}, each answered {"ok":true} or
    /// {"error":"..."}. A stale socket file is replaced.
    #[arg(long, value_name = "PATH")]
    control: Option<PathBuf>,
    /// Do not draw the human-readable clock (the machine-readable stamp is
    /// always there).
    #[arg(long)]
    no_clock_overlay: bool,
}

const EXAMPLES: &str = "\
Examples:
  picket-sim camera --camera north
      one camera, 640x360 at 15 fps, H.264 at 1000 kbit/s: rtsp://127.0.0.1:8554/north
  picket-sim camera --listen 0.0.0.0:8554 --camera north:1280x720@25,bitrate=2500,keyint=50 \\
                    --camera south:640x360@10,codec=h265 --user admin --password secret
      two cameras, the second H.265; clients use rtsp://admin:secret@HOST:8554/north
  picket-sim camera --camera north --control /tmp/cams.sock &
  picket-sim camera-control --socket /tmp/cams.sock --drop north      # camera lost
  picket-sim camera-control --socket /tmp/cams.sock --restore north   # and back
  ffplay -rtsp_transport tcp rtsp://127.0.0.1:8554/north";

pub async fn run(args: Args) -> anyhow::Result<()> {
    CameraSpec::validate_all(&args.cameras)?;
    let credentials = match (args.user, args.password) {
        (Some(user), Some(password)) => Some(Credentials { user, password }),
        _ => None,
    };
    let auth_note = credentials
        .as_ref()
        .map(|c| format!(", basic auth as {:?}", c.user))
        .unwrap_or_default();
    let control = args
        .control
        .map(ControlServer::bind)
        .transpose()
        .context("binding the control socket")?;
    let server = CameraServer::start(ServerConfig {
        listen: args.listen,
        cameras: args.cameras,
        credentials,
        clock_overlay: !args.no_clock_overlay,
    })?;
    for spec in server.cameras() {
        println!(
            "camera {}: {} ({}x{} at {} fps, {}, {} kbit/s, keyframe every {} frames){auth_note}",
            spec.name,
            server.url(&spec.name),
            spec.width,
            spec.height,
            spec.fps,
            spec.codec,
            spec.bitrate_kbit,
            spec.keyint,
        );
    }
    println!(
        "stamp: top-left {}x{} px of every frame (picket_sim::camera::stamp)",
        stamp::MIN_WIDTH,
        stamp::MIN_HEIGHT
    );
    let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    let (stop_control, control_stopped) = oneshot::channel::<()>();
    let control_task = control.map(|control| {
        println!(
            "control socket: {} (send {{\"drop\":\"NAME\"}} or {{\"restore\":\"NAME\"}})",
            control.path().display()
        );
        tokio::spawn(control.run(server.handle(), async move {
            let _ = control_stopped.await;
        }))
    });
    println!("serving (Ctrl-C to stop)");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    tracing::info!("stopping the cameras");
    let _ = stop_control.send(());
    if let Some(task) = control_task {
        task.await.context("the control socket's task failed")??;
    }
    server.shutdown();
    Ok(())
}
