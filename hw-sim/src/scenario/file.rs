//! Parsing and validating a scenario file.

use serde::Deserialize;

use super::ScenarioError;
use crate::sensor_name::SensorName;
use picket_proto::ids::UnitId;
use picket_proto::sim::SimMessage;

/// The longest wait a step may ask for: one day.
pub const MAX_AFTER_S: f64 = 86_400.0;

/// A validated scenario: at least one step.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    steps: Vec<ScenarioStep>,
}

/// One validated step.
#[derive(Clone, Debug, PartialEq)]
pub struct ScenarioStep {
    /// Seconds after the previous step (or the start), at speed 1.
    pub after_s: f64,
    /// What to send.
    pub message: SimMessage,
}

/// The file as written; the steps are kept raw so each is checked on its
/// own and its errors can name it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    step: Vec<toml::Spanned<toml::Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    after_s: f64,
    unit: UnitId,
    sensor: String,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    restore: bool,
}

impl Scenario {
    /// Parses and validates a scenario file's text.
    pub fn parse(text: &str) -> Result<Scenario, ScenarioError> {
        let raw: RawFile = toml::from_str(text)
            .map_err(|e| ScenarioError::File(e.to_string().trim_end().to_owned()))?;
        if raw.step.is_empty() {
            return Err(ScenarioError::Empty);
        }
        let steps = raw
            .step
            .into_iter()
            .enumerate()
            .map(|(index, spanned)| {
                let line = line_of(text, spanned.span().start);
                parse_step(spanned.into_inner()).map_err(|reason| ScenarioError::Step {
                    step: index + 1,
                    line,
                    reason,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Scenario { steps })
    }

    /// The steps, in order.
    pub fn steps(&self) -> &[ScenarioStep] {
        &self.steps
    }
}

fn parse_step(value: toml::Value) -> Result<ScenarioStep, String> {
    let raw: RawStep = value
        .try_into()
        .map_err(|e: toml::de::Error| e.message().trim_end().to_owned())?;
    if !(raw.after_s.is_finite() && (0.0..=MAX_AFTER_S).contains(&raw.after_s)) {
        return Err(format!(
            "after_s must be between 0 and {MAX_AFTER_S} seconds, not {}",
            raw.after_s
        ));
    }
    let sensor: SensorName = raw.sensor.parse().map_err(|e| format!("{e}"))?;
    let message = sensor
        .message(raw.unit, raw.id.as_deref(), raw.restore)
        .map_err(|e| format!("{e}"))?;
    Ok(ScenarioStep {
        after_s: raw.after_s,
        message,
    })
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    let before = text.get(..offset).unwrap_or(text);
    before.matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use picket_proto::level::SensorKind;
    use picket_proto::message::PowerEvent;

    const UNIT: &str = "0190f3a47e5b7c3d8a1b2c3d4e5f6a7b";

    fn unit() -> UnitId {
        UNIT.parse().unwrap()
    }

    #[test]
    fn parses_steps_with_defaults_and_options() {
        let text = format!(
            r#"
[[step]]
after_s = 0
unit = "{UNIT}"
sensor = "pir"

[[step]]
after_s = 1.5
unit = "{UNIT}"
sensor = "door"
id = "door-back"

[[step]]
after_s = 2
unit = "{UNIT}"
sensor = "power"
restore = true
"#
        );
        let scenario = Scenario::parse(&text).unwrap();
        let steps = scenario.steps();
        assert_eq!(steps.len(), 3);
        assert_eq!(
            steps[0],
            ScenarioStep {
                after_s: 0.0,
                message: SimMessage::Trigger {
                    unit: unit(),
                    sensor: "pir-1".into(),
                    kind: SensorKind::Motion
                }
            }
        );
        assert_eq!(
            steps[1].message,
            SimMessage::Trigger {
                unit: unit(),
                sensor: "door-back".into(),
                kind: SensorKind::Door
            }
        );
        assert_eq!(steps[2].after_s, 2.0);
        assert_eq!(
            steps[2].message,
            SimMessage::Power {
                unit: unit(),
                event: PowerEvent::MainsRestored
            }
        );
    }

    #[test]
    fn a_tamper_step_with_restore_closes_the_tamper_input_again() {
        let text = format!(
            r#"
[[step]]
after_s = 0
unit = "{UNIT}"
sensor = "tamper"
id = "lid"

[[step]]
after_s = 4
unit = "{UNIT}"
sensor = "tamper"
id = "lid"
restore = true

[[step]]
after_s = 1
unit = "{UNIT}"
sensor = "tamper"
restore = true
"#
        );
        let scenario = Scenario::parse(&text).unwrap();
        let messages: Vec<&SimMessage> = scenario.steps().iter().map(|s| &s.message).collect();
        assert_eq!(
            messages,
            [
                &SimMessage::Trigger {
                    unit: unit(),
                    sensor: "lid".into(),
                    kind: SensorKind::Tamper
                },
                &SimMessage::TamperRestored {
                    unit: unit(),
                    sensor: "lid".into()
                },
                &SimMessage::TamperRestored {
                    unit: unit(),
                    sensor: "tamper-1".into()
                },
            ]
        );
        assert_eq!(scenario.steps()[1].after_s, 4.0);
    }

    fn step_error(text: &str) -> (usize, usize, String) {
        match Scenario::parse(text) {
            Err(ScenarioError::Step { step, line, reason }) => (step, line, reason),
            other => panic!("expected a step error, got {other:?}"),
        }
    }

    fn two_steps(second: &str) -> String {
        format!(
            "[[step]]\nafter_s = 1\nunit = \"{UNIT}\"\nsensor = \"pir\"\n\n[[step]]\n{second}\n"
        )
    }

    #[test]
    fn errors_name_the_step_and_its_line() {
        let (step, line, reason) = step_error(&two_steps(&format!(
            "after_s = 1\nunit = \"{UNIT}\"\nsensor = \"pir\"\nsensr = \"door\""
        )));
        assert_eq!((step, line), (2, 6));
        assert!(reason.contains("unknown field `sensr`"), "{reason}");

        let (step, _, reason) = step_error(&two_steps(&format!(
            "after_s = 1\nunit = \"{UNIT}\"\nsensor = \"smoke\""
        )));
        assert_eq!(step, 2);
        assert!(reason.contains("unknown sensor \"smoke\""), "{reason}");

        let (_, _, reason) =
            step_error(&two_steps("after_s = 1\nunit = \"nope\"\nsensor = \"pir\""));
        assert!(reason.contains("invalid unit id"), "{reason}");

        let (_, _, reason) =
            step_error(&two_steps(&format!("unit = \"{UNIT}\"\nsensor = \"pir\"")));
        assert!(reason.contains("missing field `after_s`"), "{reason}");

        let (_, _, reason) = step_error(&two_steps(&format!(
            "after_s = -1\nunit = \"{UNIT}\"\nsensor = \"pir\""
        )));
        assert!(reason.contains("after_s must be between"), "{reason}");

        let (_, _, reason) = step_error(&two_steps(&format!(
            "after_s = 1\nunit = \"{UNIT}\"\nsensor = \"door\"\nrestore = true"
        )));
        assert!(
            reason.contains("restore applies only to power (mains restored) and tamper"),
            "{reason}"
        );

        let err = Scenario::parse(&two_steps(&format!(
            "after_s = 1\nunit = \"{UNIT}\"\nsensor = \"power\"\nid = \"mains\""
        )))
        .unwrap_err();
        assert!(err.to_string().starts_with("step 2 (line 6): "), "{err}");
    }

    #[test]
    fn the_demo_scenario_parses() {
        let scenario = Scenario::parse(include_str!("../../scenarios/demo.toml")).unwrap();
        assert!(scenario.steps().len() >= 3);
    }

    #[test]
    fn refuses_unknown_top_level_keys_and_empty_files() {
        assert!(matches!(
            Scenario::parse("[[steps]]\nafter_s = 1\n"),
            Err(ScenarioError::File(_))
        ));
        assert_eq!(Scenario::parse("# nothing\n"), Err(ScenarioError::Empty));
        assert!(matches!(
            Scenario::parse("not toml ["),
            Err(ScenarioError::File(_))
        ));
    }
}
