//! The RTSP server: one GStreamer RTSP server on its own GLib main loop
//! thread, one shared media factory per camera, and dropping/restoring a
//! camera's stream.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use gstreamer as gst;
use gstreamer_rtsp_server::prelude::*;
use gstreamer_rtsp_server::{
    self as rtsp_server, RTSPAuth, RTSPFilterResult, RTSPMedia, RTSPMediaFactory, RTSPServer,
    RTSPSession, RTSPToken, gio, glib,
};

use super::CameraError;
use super::pipeline;
use super::spec::{CameraName, CameraSpec};

/// How long a request to the server's thread may take before the server
/// is taken for stopped.
const THREAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Threads serving RTSP clients; more clients share them.
const CLIENT_THREADS: i32 = 16;
/// The role every authenticated client gets.
const ROLE: &str = "viewer";

/// What to serve.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Address and port for RTSP; port 0 picks a free one
    /// ([`CameraServer::port`] tells which).
    pub listen: SocketAddr,
    /// The cameras, each at `/<name>`. Names must differ.
    pub cameras: Vec<CameraSpec>,
    /// If set, clients must give these (RTSP basic auth).
    pub credentials: Option<Credentials>,
    /// Draw a human-readable clock in the bottom-right corner (needs
    /// `clockoverlay`, in Debian's gstreamer1.0-x; without it the cameras
    /// run without the clock and a warning is logged). Cameras less than
    /// 176 px high never get it: it would cover the stamp.
    pub clock_overlay: bool,
}

/// RTSP basic-auth credentials. `Debug` does not show the password.
#[derive(Clone)]
pub struct Credentials {
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"<hidden>")
            .finish()
    }
}

/// A running camera server. Dropping it stops it too (like
/// [`CameraServer::shutdown`]).
#[derive(Debug)]
pub struct CameraServer {
    handle: CameraHandle,
    address: SocketAddr,
    main_loop: glib::MainLoop,
    thread: Option<JoinHandle<()>>,
}

impl CameraServer {
    /// Checks the cameras and the GStreamer elements they need, binds the
    /// RTSP port and starts serving on a new thread.
    pub fn start(config: ServerConfig) -> Result<CameraServer, CameraError> {
        CameraSpec::validate_all(&config.cameras)?;
        gst::init().map_err(|e| CameraError::Init(e.to_string()))?;
        for spec in &config.cameras {
            for &(element, package) in pipeline::elements(spec.codec) {
                if gst::ElementFactory::find(element).is_none() {
                    return Err(CameraError::MissingElement { element, package });
                }
            }
        }
        let clock_overlay = config.clock_overlay && {
            let (element, package) = pipeline::CLOCK_OVERLAY;
            let found = gst::ElementFactory::find(element).is_some();
            if !found {
                tracing::warn!(
                    "{element} is not installed (Debian package {package}): \
                     the cameras show no human-readable clock (the stamp is unaffected)"
                );
            }
            found
        };

        let server = RTSPServer::new();
        // A client per thread (up to a bound): one client's DESCRIBE, which
        // waits for its camera's pipeline to start, never holds up others.
        if let Some(threads) = server.thread_pool() {
            threads.set_max_threads(CLIENT_THREADS);
        }
        server.set_address(&config.listen.ip().to_string());
        server.set_service(&config.listen.port().to_string());
        if let Some(credentials) = &config.credentials {
            let auth = RTSPAuth::new();
            let token = RTSPToken::builder()
                .field(rtsp_server::RTSP_TOKEN_MEDIA_FACTORY_ROLE, ROLE)
                .build();
            let basic = RTSPAuth::make_basic(&credentials.user, &credentials.password);
            auth.add_basic(&basic, &token);
            server.set_auth(Some(&auth));
        }
        let mounts = server
            .mount_points()
            .ok_or_else(|| CameraError::Init("the RTSP server has no mount points".into()))?;
        let mut cameras = BTreeMap::new();
        for spec in &config.cameras {
            let camera = Camera::new(
                spec.clone(),
                clock_overlay && pipeline::has_overlay_room(spec),
                config.credentials.is_some(),
            );
            mounts.add_factory(&camera.path, camera.factory.clone());
            cameras.insert(spec.name.clone(), camera);
        }

        let context = glib::MainContext::new();
        let source = server
            .create_source(None::<&gio::Cancellable>)
            .map_err(|e| CameraError::Bind {
                address: config.listen,
                detail: e.to_string(),
            })?;
        source.attach(Some(&context));
        let port = u16::try_from(server.bound_port()).map_err(|_| CameraError::Bind {
            address: config.listen,
            detail: "no port was bound".into(),
        })?;
        let address = SocketAddr::new(config.listen.ip(), port);

        let main_loop = glib::MainLoop::new(Some(&context), false);
        let inner = Arc::new(Inner {
            context: context.clone(),
            server,
            source,
            cameras,
            stopped: AtomicBool::new(false),
        });
        let thread = {
            let main_loop = main_loop.clone();
            std::thread::Builder::new()
                .name("rtsp-cameras".into())
                .spawn(move || {
                    // The listening source is on this context; clients get
                    // threads of their own from the pool.
                    if let Err(e) = context.with_thread_default(|| main_loop.run()) {
                        tracing::error!(error = %e, "the RTSP server's main loop could not run");
                    }
                })
                .map_err(|e| CameraError::Init(format!("starting the server thread: {e}")))?
        };
        tracing::info!(%address, cameras = inner.cameras.len(), "RTSP cameras serving");
        Ok(CameraServer {
            handle: CameraHandle { inner },
            address,
            main_loop,
            thread: Some(thread),
        })
    }

    /// The address clients connect to (with the bound port).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The bound RTSP port.
    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// `rtsp://ADDRESS:PORT/<name>` for a camera (without credentials).
    pub fn url(&self, camera: &CameraName) -> String {
        format!("rtsp://{}/{camera}", self.address)
    }

    /// The cameras served, in name order.
    pub fn cameras(&self) -> Vec<CameraSpec> {
        self.handle
            .inner
            .cameras
            .values()
            .map(|camera| camera.spec.clone())
            .collect()
    }

    /// A handle to drop and restore streams, usable from any thread.
    pub fn handle(&self) -> CameraHandle {
        self.handle.clone()
    }

    /// Ends every client's session, stops every pipeline and the server's
    /// thread.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        let inner = self.handle.inner.clone();
        let main_loop = self.main_loop.clone();
        let (done, finished) = mpsc::sync_channel(1);
        self.handle.inner.context.invoke(move || {
            inner.stopped.store(true, Ordering::SeqCst);
            inner.source.destroy();
            for camera in inner.cameras.values() {
                inner.cut(camera);
            }
            // Clients watching nothing (yet) go too.
            inner
                .server
                .client_filter(Some(&mut |_, _| RTSPFilterResult::Remove));
            main_loop.quit();
            let _ = done.send(());
        });
        if finished.recv_timeout(THREAD_TIMEOUT).is_err() {
            tracing::warn!("the RTSP server's thread did not stop in time");
            return;
        }
        if thread.join().is_err() {
            tracing::error!("the RTSP server's thread panicked (a bug)");
        }
    }
}

impl Drop for CameraServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Drops and restores cameras' streams on a running [`CameraServer`].
/// Cheap to clone; every call runs on the server's thread and waits for
/// it.
#[derive(Clone, Debug)]
pub struct CameraHandle {
    inner: Arc<Inner>,
}

impl CameraHandle {
    /// Stops `camera`'s stream: its path is unmounted (new clients get
    /// `404 Not Found`), clients watching it are disconnected and their
    /// sessions removed, and its pipeline stops. Dropping a dropped camera
    /// is a no-op.
    pub fn drop_stream(&self, camera: &str) -> Result<(), CameraError> {
        self.with_camera(camera, |inner, camera| {
            if !camera.dropped.swap(true, Ordering::SeqCst) {
                inner.cut(camera);
                tracing::info!(camera = %camera.spec.name, "stream dropped");
            }
        })
    }

    /// Serves `camera` again: new clients get a fresh pipeline (frame
    /// numbers start again at 0). Restoring a serving camera is a no-op.
    pub fn restore_stream(&self, camera: &str) -> Result<(), CameraError> {
        self.with_camera(camera, |inner, camera| {
            if camera.dropped.swap(false, Ordering::SeqCst) {
                if let Some(mounts) = inner.server.mount_points() {
                    mounts.add_factory(&camera.path, camera.factory.clone());
                }
                tracing::info!(camera = %camera.spec.name, "stream restored");
            }
        })
    }

    /// Whether `camera` is dropped now.
    pub fn is_dropped(&self, camera: &str) -> Result<bool, CameraError> {
        self.with_camera(camera, |_, camera| camera.dropped.load(Ordering::SeqCst))
    }

    fn with_camera<T: Send + 'static>(
        &self,
        name: &str,
        action: impl FnOnce(&Inner, &Camera) -> T + Send + 'static,
    ) -> Result<T, CameraError> {
        let known = self
            .inner
            .cameras
            .keys()
            .any(|known| known.as_str() == name);
        if !known {
            return Err(CameraError::UnknownCamera {
                name: name.to_owned(),
                known: self
                    .inner
                    .cameras
                    .keys()
                    .map(|name| name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        if self.inner.stopped.load(Ordering::SeqCst) {
            return Err(CameraError::Stopped);
        }
        let inner = self.inner.clone();
        let name = name.to_owned();
        let (reply, answer) = mpsc::sync_channel(1);
        self.inner.context.invoke(move || {
            let result = if inner.stopped.load(Ordering::SeqCst) {
                Err(CameraError::Stopped)
            } else {
                match inner
                    .cameras
                    .iter()
                    .find(|(known, _)| known.as_str() == name)
                {
                    Some((_, camera)) => Ok(action(&inner, camera)),
                    None => Err(CameraError::Stopped),
                }
            };
            let _ = reply.send(result);
        });
        answer
            .recv_timeout(THREAD_TIMEOUT)
            .map_err(|_| CameraError::Stopped)?
    }
}

/// Shared by the handle and the server's thread.
struct Inner {
    context: glib::MainContext,
    server: RTSPServer,
    /// The listening socket's source; destroyed on shutdown.
    source: glib::Source,
    cameras: BTreeMap<CameraName, Camera>,
    stopped: AtomicBool,
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inner")
            .field("cameras", &self.cameras.keys().collect::<Vec<_>>())
            .field("stopped", &self.stopped)
            .finish_non_exhaustive()
    }
}

impl Inner {
    /// Unmounts `camera`, disconnects its clients, removes its sessions and
    /// stops its pipelines. Runs on the server's thread.
    fn cut(&self, camera: &Camera) {
        if let Some(mounts) = self.server.mount_points() {
            mounts.remove_factory(&camera.path);
        }
        let media = camera.live_media();
        if media.is_empty() {
            return;
        }
        // Closing a client's connection ends its TCP sessions: its reader
        // sees the stream end.
        self.server.client_filter(Some(&mut |_, client| {
            let watching = client.session_filter(Some(&mut |_, session| {
                if uses_any(session, &media) {
                    RTSPFilterResult::Ref
                } else {
                    RTSPFilterResult::Keep
                }
            }));
            if watching.is_empty() {
                RTSPFilterResult::Keep
            } else {
                RTSPFilterResult::Remove
            }
        }));
        // Sessions left over (UDP clients whose connection is gone, clients
        // between SETUP and PLAY) go too.
        if let Some(pool) = self.server.session_pool() {
            pool.filter(Some(&mut |_, session| {
                if uses_any(session, &media) {
                    RTSPFilterResult::Remove
                } else {
                    RTSPFilterResult::Keep
                }
            }));
        }
        for media in media {
            // Already unprepared when its last session went: nothing to do.
            let _ = media.unprepare();
        }
    }
}

fn uses_any(session: &RTSPSession, media: &[RTSPMedia]) -> bool {
    !session
        .filter(Some(&mut |_, session_media| match session_media.media() {
            Some(used) if media.contains(&used) => RTSPFilterResult::Ref,
            _ => RTSPFilterResult::Keep,
        }))
        .is_empty()
}

/// One camera: its spec, its factory and the media it has built.
struct Camera {
    spec: CameraSpec,
    path: String,
    factory: RTSPMediaFactory,
    /// The media (pipelines) the factory built, to find their clients
    /// when the camera is dropped. Pruned as they go away.
    media: Arc<Mutex<Vec<glib::WeakRef<RTSPMedia>>>>,
    dropped: AtomicBool,
}

impl Camera {
    fn new(spec: CameraSpec, clock_overlay: bool, with_auth: bool) -> Camera {
        let factory = RTSPMediaFactory::new();
        factory.set_launch(&pipeline::launch(&spec, clock_overlay));
        // One pipeline and one encoder however many clients watch.
        factory.set_shared(true);
        if with_auth {
            factory.add_role_from_structure(
                &gst::Structure::builder(ROLE)
                    .field(rtsp_server::RTSP_PERM_MEDIA_FACTORY_ACCESS, true)
                    .field(rtsp_server::RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, true)
                    .build(),
            );
        }
        let media: Arc<Mutex<Vec<glib::WeakRef<RTSPMedia>>>> = Arc::default();
        {
            let media = media.clone();
            let spec = spec.clone();
            factory.connect_media_configure(move |_, configured| {
                if let Err(e) = pipeline::attach_stamper(configured, &spec) {
                    tracing::error!(camera = %spec.name, error = %e, "frames will not be stamped");
                }
                // The server answers clients of a failed pipeline with an
                // error status; say why here.
                let camera = spec.name.clone();
                configured.connect_handle_message(Some("error"), move |_, message| {
                    if let gst::MessageView::Error(e) = message.view() {
                        tracing::error!(
                            %camera,
                            error = %e.error(),
                            debug = ?e.debug(),
                            "the camera's pipeline failed"
                        );
                    }
                    true
                });
                let mut media = media.lock().unwrap_or_else(PoisonError::into_inner);
                media.retain(|weak| weak.upgrade().is_some());
                media.push(configured.downgrade());
                tracing::debug!(camera = %spec.name, "pipeline built");
            });
        }
        Camera {
            path: format!("/{}", spec.name),
            spec,
            factory,
            media,
            dropped: AtomicBool::new(false),
        }
    }

    fn live_media(&self) -> Vec<RTSPMedia> {
        let mut media = self.media.lock().unwrap_or_else(PoisonError::into_inner);
        media.retain(|weak| weak.upgrade().is_some());
        media.iter().filter_map(|weak| weak.upgrade()).collect()
    }
}
