//! What one simulated camera serves, as written on the command line:
//! `NAME[:WIDTHxHEIGHT][@FPS][,bitrate=KBIT][,keyint=FRAMES][,codec=h264|h265][,picture=ball|noise]`.
//!
//! Pure parsing and validation; every refusal names the spec and the rule.

use std::fmt;
use std::str::FromStr;

/// Width and height when the spec gives none.
pub const DEFAULT_SIZE: (u32, u32) = (640, 360);
/// Frames per second when the spec gives none.
pub const DEFAULT_FPS: u32 = 15;
/// Encoder bitrate in kbit/s when the spec gives none.
pub const DEFAULT_BITRATE_KBIT: u32 = 1000;
/// The keyframe interval when the spec gives none: two seconds of frames.
pub const DEFAULT_KEYINT_SECONDS: u32 = 2;

const MAX_NAME: usize = 32;
const WIDTHS: (u32, u32) = (256, 3840);
const HEIGHTS: (u32, u32) = (128, 2160);
const FPS: (u32, u32) = (1, 60);
const BITRATES: (u32, u32) = (50, 50_000);
const KEYINTS: (u32, u32) = (1, 1000);

/// The video codec a camera sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    /// H.264, constrained baseline profile (what browsers play).
    H264,
    /// H.265 (HEVC), main profile.
    H265,
}

impl Codec {
    /// The name used in specs: `h264` or `h265`.
    pub fn as_str(self) -> &'static str {
        match self {
            Codec::H264 => "h264",
            Codec::H265 => "h265",
        }
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A camera's name: its RTSP path is `/<name>`. 1 to 32 ASCII letters,
/// digits, `-` and `_`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CameraName(String);

impl CameraName {
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CameraName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for CameraName {
    type Err = SpecError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let valid = !name.is_empty()
            && name.len() <= MAX_NAME
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if valid {
            Ok(CameraName(name.to_owned()))
        } else {
            Err(SpecError::Name {
                name: name.to_owned(),
            })
        }
    }
}

/// One camera: name, picture, rate and encoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CameraSpec {
    /// Served at `/<name>`.
    pub name: CameraName,
    /// Picture width in pixels: even, 256–3840.
    pub width: u32,
    /// Picture height in pixels: even, 128–2160.
    pub height: u32,
    /// Frames per second: 1–60.
    pub fps: u32,
    /// Encoder target bitrate in kbit/s: 50–50,000.
    pub bitrate_kbit: u32,
    /// A keyframe every this many frames (exactly: frame numbers divisible
    /// by it are keyframes): 1–1000.
    pub keyint: u32,
    /// The codec.
    pub codec: Codec,
    /// A busy picture (moving noise that barely compresses, so the encoder
    /// runs at its bitrate, as a real scene does) rather than a ball on a
    /// still background (which compresses to a fraction of it).
    pub noise: bool,
}

impl CameraSpec {
    /// A camera with every default: 640x360 at 15 fps, 1000 kbit/s, a
    /// keyframe every 30 frames, H.264.
    pub fn new(name: CameraName) -> CameraSpec {
        CameraSpec {
            name,
            width: DEFAULT_SIZE.0,
            height: DEFAULT_SIZE.1,
            fps: DEFAULT_FPS,
            bitrate_kbit: DEFAULT_BITRATE_KBIT,
            keyint: DEFAULT_FPS * DEFAULT_KEYINT_SECONDS,
            codec: Codec::H264,
            noise: false,
        }
    }

    /// Checks every field's range (parsing does too; for specs built in
    /// code).
    pub fn validate(&self) -> Result<(), SpecError> {
        let spec = self.to_string();
        let dimension = |what: &'static str, value: u32, (min, max): (u32, u32)| {
            if !value.is_multiple_of(2) {
                Err(SpecError::Invalid {
                    spec: spec.clone(),
                    reason: format!("{what} {value} is odd: 4:2:0 video needs an even {what}"),
                })
            } else {
                in_range(&spec, what, value, (min, max))
            }
        };
        dimension("width", self.width, WIDTHS)?;
        dimension("height", self.height, HEIGHTS)?;
        in_range(&spec, "fps", self.fps, FPS)?;
        in_range(&spec, "bitrate (kbit/s)", self.bitrate_kbit, BITRATES)?;
        in_range(&spec, "keyint (frames)", self.keyint, KEYINTS)?;
        Ok(())
    }

    /// Checks a set of cameras: each valid, no name twice.
    pub fn validate_all(specs: &[CameraSpec]) -> Result<(), SpecError> {
        for (i, spec) in specs.iter().enumerate() {
            spec.validate()?;
            if specs[..i].iter().any(|earlier| earlier.name == spec.name) {
                return Err(SpecError::Duplicate {
                    name: spec.name.clone(),
                });
            }
        }
        Ok(())
    }
}

fn in_range(spec: &str, what: &str, value: u32, (min, max): (u32, u32)) -> Result<(), SpecError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(SpecError::Invalid {
            spec: spec.to_owned(),
            reason: format!("{what} {value} is out of range {min}-{max}"),
        })
    }
}

/// Written back in the syntax it is parsed from, every field explicit.
impl fmt::Display for CameraSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}x{}@{},bitrate={},keyint={},codec={}",
            self.name,
            self.width,
            self.height,
            self.fps,
            self.bitrate_kbit,
            self.keyint,
            self.codec
        )?;
        if self.noise {
            f.write_str(",picture=noise")?;
        }
        Ok(())
    }
}

impl FromStr for CameraSpec {
    type Err = SpecError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = |reason: String| SpecError::Invalid {
            spec: text.to_owned(),
            reason,
        };
        let mut parts = text.split(',');
        let head = parts.next().unwrap_or_default();
        let (head, fps) = match head.split_once('@') {
            Some((head, fps)) => (head, Some(number(text, "fps", fps)?)),
            None => (head, None),
        };
        let (name, size) = match head.split_once(':') {
            Some((name, size)) => {
                let (width, height) = size.split_once(['x', 'X']).ok_or_else(|| {
                    invalid(format!("size {size:?} is not WIDTHxHEIGHT (e.g. 640x360)"))
                })?;
                (
                    name,
                    Some((
                        number(text, "width", width)?,
                        number(text, "height", height)?,
                    )),
                )
            }
            None => (head, None),
        };
        let mut spec = CameraSpec::new(name.parse()?);
        if let Some((width, height)) = size {
            spec.width = width;
            spec.height = height;
        }
        if let Some(fps) = fps {
            spec.fps = fps;
            spec.keyint = fps.saturating_mul(DEFAULT_KEYINT_SECONDS);
        }
        let mut seen: Vec<&str> = Vec::new();
        for option in parts {
            let (key, value) = option.split_once('=').ok_or_else(|| {
                invalid(format!(
                    "option {option:?} is not KEY=VALUE (bitrate=, keyint=, codec=, picture=)"
                ))
            })?;
            if seen.contains(&key) {
                return Err(invalid(format!("{key}= is given twice")));
            }
            seen.push(key);
            match key {
                "bitrate" => spec.bitrate_kbit = number(text, "bitrate", value)?,
                "keyint" => spec.keyint = number(text, "keyint", value)?,
                "codec" => {
                    spec.codec = match value {
                        "h264" => Codec::H264,
                        "h265" => Codec::H265,
                        _ => {
                            return Err(invalid(format!(
                                "unknown codec {value:?}: use h264 or h265"
                            )));
                        }
                    }
                }
                "picture" => {
                    spec.noise = match value {
                        "ball" => false,
                        "noise" => true,
                        _ => {
                            return Err(invalid(format!(
                                "unknown picture {value:?}: use ball or noise"
                            )));
                        }
                    }
                }
                _ => {
                    return Err(invalid(format!(
                        "unknown option {key:?}: use bitrate=, keyint=, codec= or picture="
                    )));
                }
            }
        }
        // Range errors quote the user's text, not the normalised spec.
        spec.validate().map_err(|e| match e {
            SpecError::Invalid { reason, .. } => invalid(reason),
            other => other,
        })?;
        Ok(spec)
    }
}

fn number(spec: &str, what: &str, value: &str) -> Result<u32, SpecError> {
    value.parse().map_err(|_| SpecError::Invalid {
        spec: spec.to_owned(),
        reason: format!("{what} {value:?} is not a whole number"),
    })
}

/// Why a camera spec was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// The name cannot be a path segment.
    #[error("camera name {name:?} is not 1-{MAX_NAME} ASCII letters, digits, '-' or '_'")]
    Name {
        /// The name as given.
        name: String,
    },
    /// A field is malformed or out of range.
    #[error("camera {spec:?}: {reason}")]
    Invalid {
        /// The spec as given.
        spec: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// Two cameras share a name (and so a path).
    #[error("camera name \"{name}\" is given twice; every camera needs its own name")]
    Duplicate {
        /// The name.
        name: CameraName,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<CameraSpec, String> {
        text.parse::<CameraSpec>().map_err(|e| e.to_string())
    }

    #[test]
    fn a_bare_name_takes_every_default() {
        let spec = parse("north").unwrap();
        assert_eq!(spec, CameraSpec::new("north".parse().unwrap()));
        assert_eq!(
            spec.to_string(),
            "north:640x360@15,bitrate=1000,keyint=30,codec=h264"
        );
    }

    #[test]
    fn every_field_can_be_given() {
        let noisy = parse("busy:1920x1080@30,bitrate=4000,picture=noise").unwrap();
        assert!(noisy.noise);
        assert_eq!(
            noisy.to_string(),
            "busy:1920x1080@30,bitrate=4000,keyint=60,codec=h264,picture=noise"
        );
        assert!(parse("busy,picture=plaid").is_err());
        let spec = parse("gate-2:1280x720@25,bitrate=2500,keyint=50,codec=h265").unwrap();
        assert_eq!(spec.name.as_str(), "gate-2");
        assert_eq!((spec.width, spec.height, spec.fps), (1280, 720, 25));
        assert_eq!((spec.bitrate_kbit, spec.keyint), (2500, 50));
        assert_eq!(spec.codec, Codec::H265);
        assert_eq!(parse(&spec.to_string()).unwrap(), spec);
    }

    #[test]
    fn fields_are_optional_and_keyint_follows_fps() {
        let spec = parse("a@10").unwrap();
        assert_eq!((spec.width, spec.fps, spec.keyint), (640, 10, 20));
        let spec = parse("a:320x240,keyint=7").unwrap();
        assert_eq!(
            (spec.width, spec.height, spec.fps, spec.keyint),
            (320, 240, 15, 7)
        );
        let spec = parse("a@10,keyint=3").unwrap();
        assert_eq!(spec.keyint, 3);
    }

    #[test]
    fn bad_specs_are_refused_naming_the_rule() {
        let cases = [
            ("north,codec=vp8", "unknown codec \"vp8\": use h264 or h265"),
            ("north@0", "fps 0 is out of range 1-60"),
            ("north:641x360", "width 641 is odd"),
            ("north:640x361", "height 361 is odd"),
            ("north:200x120", "width 200 is out of range 256-3840"),
            ("north:640", "is not WIDTHxHEIGHT"),
            ("north@fast", "fps \"fast\" is not a whole number"),
            ("north,bitrate=10", "bitrate (kbit/s) 10 is out of range"),
            ("north,keyint=0", "keyint (frames) 0 is out of range"),
            ("north,colour=red", "unknown option \"colour\""),
            ("north,bitrate", "is not KEY=VALUE"),
            ("north,keyint=5,keyint=6", "keyint= is given twice"),
            ("no/rth", "camera name \"no/rth\" is not"),
            ("", "camera name \"\" is not"),
        ];
        for (spec, message) in cases {
            let err = parse(spec).expect_err(spec);
            assert!(err.contains(message), "{spec}: {err}");
        }
    }

    #[test]
    fn duplicate_names_are_refused() {
        let specs = ["north", "south@5", "north:320x240"].map(|s| parse(s).unwrap());
        let err = CameraSpec::validate_all(&specs).unwrap_err();
        assert_eq!(
            err.to_string(),
            "camera name \"north\" is given twice; every camera needs its own name"
        );
        assert!(CameraSpec::validate_all(&specs[..2]).is_ok());
    }
}
