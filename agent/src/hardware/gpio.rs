//! The GPIO backend: sensor inputs and outputs on Linux GPIO character
//! devices (`/dev/gpiochipN`, uAPI v2, through `gpiocdev`).
//!
//! Inputs are requested with edge detection on both edges, the kernel's
//! debounce and, for `active_low` lines, the kernel's inversion — so a
//! *rising* edge always means "became active". A sensor fires on becoming
//! active; a `tamper` input (a level: active while the enclosure or sensor
//! is open) also reports "tamper restored" on becoming inactive; a `power`
//! input reports mains lost on becoming inactive and restored on becoming
//! active. Outputs (siren, strobe, armed LED) follow
//! the core's [`Outputs`].
//!
//! The mapping from edges to triggers and from outputs to line values is
//! pure ([`trigger_for`], [`line_values`]) and tested here; the IO around it
//! needs a real chip (or the kernel's gpio-sim), which our build machines do
//! not have.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use gpiocdev::line::{EdgeDetection, EdgeKind, Value};
use picket_proto::level::SensorKind;
use picket_proto::message::PowerEvent;
use serde::Deserialize;
use tokio::sync::{mpsc, oneshot, watch};

use super::{Input, Outputs};
use crate::sensors::Trigger;

/// What an input line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    /// A sensor of this kind.
    Motion,
    /// Door contact.
    Door,
    /// Tamper switch: active while open (tampered); becoming inactive again
    /// reports "tamper restored".
    Tamper,
    /// Panic button.
    Panic,
    /// Video analytics relay output.
    VideoAnalytics,
    /// Mains supervision: active while mains is present.
    Power,
}

/// One input line.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpioInput {
    /// The chip, e.g. `/dev/gpiochip0`.
    pub chip: PathBuf,
    /// The line offset on that chip.
    pub line: u32,
    /// The sensor's id on the unit, e.g. `pir-1` (ignored for power).
    pub sensor: String,
    /// What it is.
    pub kind: InputKind,
    /// The line is active when low.
    #[serde(default)]
    pub active_low: bool,
    /// Kernel debounce period in milliseconds (default 20).
    #[serde(default = "default_debounce")]
    pub debounce_ms: u32,
}

/// What an output line drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputRole {
    /// The siren.
    Siren,
    /// The strobe.
    Strobe,
    /// The status LED, lit while armed.
    ArmedLed,
}

/// One output line.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpioOutput {
    /// The chip.
    pub chip: PathBuf,
    /// The line offset.
    pub line: u32,
    /// What it drives.
    pub role: OutputRole,
    /// The line is active when low.
    #[serde(default)]
    pub active_low: bool,
}

fn default_debounce() -> u32 {
    20
}

/// The trigger an edge on `input` makes (`rising` = became active).
pub fn trigger_for(input: &GpioInput, rising: bool) -> Option<Trigger> {
    let kind = match input.kind {
        InputKind::Power => {
            let event = if rising {
                PowerEvent::MainsRestored
            } else {
                PowerEvent::MainsLost
            };
            return Some(Trigger::Power(event));
        }
        InputKind::Tamper if !rising => {
            return Some(Trigger::TamperRestored {
                sensor: input.sensor.clone(),
            });
        }
        InputKind::Motion => SensorKind::Motion,
        InputKind::Door => SensorKind::Door,
        InputKind::Tamper => SensorKind::Tamper,
        InputKind::Panic => SensorKind::Panic,
        InputKind::VideoAnalytics => SensorKind::VideoAnalytics,
    };
    rising.then(|| Trigger::Sensor {
        sensor: input.sensor.clone(),
        kind,
        camera: None,
    })
}

/// The logical value of each output line for `outputs` (active = true).
pub fn line_values(lines: &[GpioOutput], outputs: Outputs) -> Vec<(&GpioOutput, bool)> {
    lines
        .iter()
        .map(|line| {
            let on = match line.role {
                OutputRole::Siren => outputs.siren,
                OutputRole::Strobe => outputs.strobe,
                OutputRole::ArmedLed => outputs.state == picket_proto::arming::ArmState::Armed,
            };
            (line, on)
        })
        .collect()
}

/// Checks a GPIO setup: at least one input, no line used twice.
pub fn check(inputs: &[GpioInput], outputs: &[GpioOutput]) -> Result<(), String> {
    if inputs.is_empty() {
        return Err(
            "hardware.backend = \"gpio\" needs at least one [[hardware.inputs]] line".into(),
        );
    }
    let mut seen = std::collections::BTreeSet::new();
    let lines = inputs
        .iter()
        .map(|i| (&i.chip, i.line))
        .chain(outputs.iter().map(|o| (&o.chip, o.line)));
    for (chip, line) in lines {
        if !seen.insert((chip.clone(), line)) {
            return Err(format!(
                "GPIO line {line} of {} is configured twice",
                chip.display()
            ));
        }
    }
    Ok(())
}

/// Starts the GPIO backend. Inputs arrive on the returned receiver.
pub fn spawn(
    inputs: Vec<GpioInput>,
    outputs: Vec<GpioOutput>,
    mut state: watch::Receiver<Option<Outputs>>,
) -> mpsc::Receiver<Input> {
    let (tx, rx) = mpsc::channel(64);
    let mut by_chip: BTreeMap<PathBuf, Vec<GpioInput>> = BTreeMap::new();
    for input in inputs {
        by_chip.entry(input.chip.clone()).or_default().push(input);
    }
    for (chip, lines) in by_chip {
        let tx = tx.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = watch_chip(&chip, &lines, &tx).await {
                    tracing::error!(chip = %chip.display(), error = %e, "GPIO inputs failed; retrying in 5 s");
                }
                if tx.is_closed() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        });
    }
    tokio::spawn(async move {
        let mut requests: BTreeMap<(PathBuf, u32), gpiocdev::Request> = BTreeMap::new();
        while state.changed().await.is_ok() {
            let current = *state.borrow_and_update();
            let Some(current) = current else { continue };
            for (line, on) in line_values(&outputs, current) {
                if let Err(e) = drive(&mut requests, line, on) {
                    tracing::error!(chip = %line.chip.display(), line = line.line, error = %e, "cannot set a GPIO output");
                }
            }
        }
    });
    rx
}

async fn watch_chip(
    chip: &PathBuf,
    lines: &[GpioInput],
    tx: &mpsc::Sender<Input>,
) -> Result<(), gpiocdev::Error> {
    let mut builder = gpiocdev::Request::builder();
    builder.on_chip(chip).with_consumer("picket-agent");
    for input in lines {
        builder
            .with_line(input.line)
            .as_input()
            .with_edge_detection(EdgeDetection::BothEdges)
            .with_debounce_period(Duration::from_millis(u64::from(input.debounce_ms)));
        if input.active_low {
            builder.as_active_low();
        }
    }
    let request = gpiocdev::tokio::AsyncRequest::new(builder.request()?);
    tracing::info!(chip = %chip.display(), lines = lines.len(), "watching GPIO inputs");
    loop {
        let event = request.read_edge_event().await?;
        let Some(input) = lines.iter().find(|i| i.line == event.offset) else {
            continue;
        };
        let rising = event.kind == EdgeKind::Rising;
        if let Some(trigger) = trigger_for(input, rising) {
            let (recorded, done) = oneshot::channel();
            if tx.send(Input { trigger, recorded }).await.is_err() {
                return Ok(());
            }
            let _ = done.await;
        }
    }
}

fn drive(
    requests: &mut BTreeMap<(PathBuf, u32), gpiocdev::Request>,
    line: &GpioOutput,
    on: bool,
) -> Result<(), gpiocdev::Error> {
    let value = if on { Value::Active } else { Value::Inactive };
    let key = (line.chip.clone(), line.line);
    if let Some(request) = requests.get(&key) {
        return request.set_lone_value(value);
    }
    let mut builder = gpiocdev::Request::builder();
    builder
        .on_chip(&line.chip)
        .with_consumer("picket-agent")
        .with_line(line.line)
        .as_output(value);
    if line.active_low {
        builder.as_active_low();
    }
    requests.insert(key, builder.request()?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use picket_proto::arming::ArmState;

    fn input(kind: InputKind) -> GpioInput {
        GpioInput {
            chip: "/dev/gpiochip0".into(),
            line: 17,
            sensor: "pir-1".into(),
            kind,
            active_low: false,
            debounce_ms: 20,
        }
    }

    #[test]
    fn a_sensor_fires_when_it_becomes_active_only() {
        let pir = input(InputKind::Motion);
        assert_eq!(
            trigger_for(&pir, true),
            Some(Trigger::Sensor {
                sensor: "pir-1".into(),
                kind: SensorKind::Motion,
                camera: None
            })
        );
        assert_eq!(trigger_for(&pir, false), None);
    }

    #[test]
    fn a_tamper_switch_reports_opening_and_closing_again() {
        let lid = GpioInput {
            sensor: "lid".into(),
            ..input(InputKind::Tamper)
        };
        assert_eq!(
            trigger_for(&lid, true),
            Some(Trigger::Sensor {
                sensor: "lid".into(),
                kind: SensorKind::Tamper,
                camera: None
            })
        );
        assert_eq!(
            trigger_for(&lid, false),
            Some(Trigger::TamperRestored {
                sensor: "lid".into()
            })
        );
    }

    #[test]
    fn other_sensors_ignore_becoming_inactive() {
        for kind in [
            InputKind::Motion,
            InputKind::Door,
            InputKind::Panic,
            InputKind::VideoAnalytics,
        ] {
            assert_eq!(trigger_for(&input(kind), false), None, "{kind:?}");
            assert!(trigger_for(&input(kind), true).is_some(), "{kind:?}");
        }
    }

    #[test]
    fn mains_supervision_reports_both_edges() {
        let mains = input(InputKind::Power);
        assert_eq!(
            trigger_for(&mains, false),
            Some(Trigger::Power(PowerEvent::MainsLost))
        );
        assert_eq!(
            trigger_for(&mains, true),
            Some(Trigger::Power(PowerEvent::MainsRestored))
        );
    }

    #[test]
    fn outputs_follow_the_core() {
        let lines = vec![
            GpioOutput {
                chip: "/dev/gpiochip0".into(),
                line: 1,
                role: OutputRole::Siren,
                active_low: false,
            },
            GpioOutput {
                chip: "/dev/gpiochip0".into(),
                line: 2,
                role: OutputRole::ArmedLed,
                active_low: true,
            },
        ];
        let values = line_values(
            &lines,
            Outputs {
                state: ArmState::Armed,
                siren: false,
                strobe: true,
            },
        );
        assert_eq!(
            values.iter().map(|(_, on)| *on).collect::<Vec<_>>(),
            [false, true]
        );
        let values = line_values(
            &lines,
            Outputs {
                state: ArmState::Disarmed,
                siren: true,
                strobe: false,
            },
        );
        assert_eq!(
            values.iter().map(|(_, on)| *on).collect::<Vec<_>>(),
            [true, false]
        );
    }

    #[test]
    fn a_line_used_twice_or_no_inputs_is_refused() {
        assert!(check(&[], &[]).unwrap_err().contains("at least one"));
        let out = GpioOutput {
            chip: "/dev/gpiochip0".into(),
            line: 17,
            role: OutputRole::Siren,
            active_low: false,
        };
        let err = check(&[input(InputKind::Door)], &[out]).unwrap_err();
        assert!(
            err.contains("line 17 of /dev/gpiochip0 is configured twice"),
            "{err}"
        );
    }
}
