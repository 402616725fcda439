//! Relocation: moving a unit to a new position without false alarms.
//!
//! The customer (or an installer) puts a unit *in relocation*: monitoring
//! pauses for that unit. Once it stands in its new place they *request
//! activation*; the monitoring centre checks the camera views and
//! *activates* it, or sends it back to relocating if the views are wrong.
//! Only unit models that can be moved offer relocation at all.
//!
//! | from → to | who may |
//! |---|---|
//! | active → relocating | customer, installer, monitoring centre |
//! | relocating → activation requested | customer, installer |
//! | activation requested → active | monitoring centre |
//! | activation requested → relocating | customer, installer (withdraw), monitoring centre (views not right) |
//! | relocating → active | monitoring centre (activating without a request) |

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where a unit is in the relocation cycle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelocationState {
    /// In place and monitored.
    #[default]
    Active,
    /// Being moved: monitoring paused.
    Relocating,
    /// Moved; waiting for the monitoring centre to check and activate.
    ActivationRequested,
}

/// Who asks for a relocation move.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelocationActor {
    /// A user of the customer's organisation.
    Customer,
    /// An installer of the operator.
    Installer,
    /// The monitoring centre.
    MonitoringCentre,
}

/// Why a relocation move was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RelocationError {
    /// The unit's model cannot be relocated.
    #[error("this unit's model does not support relocation")]
    NotSupported,
    /// The unit is already in the requested state.
    #[error("the unit is already {0}")]
    AlreadyIn(RelocationState),
    /// Nobody can make this move.
    #[error("a unit that is {from} cannot go to {to} directly")]
    InvalidMove {
        /// Current state.
        from: RelocationState,
        /// Requested state.
        to: RelocationState,
    },
    /// Someone else can make this move, but not this actor.
    #[error("{actor} cannot move a unit from {from} to {to}; {who} can")]
    NotAllowed {
        /// Who asked.
        actor: RelocationActor,
        /// Current state.
        from: RelocationState,
        /// Requested state.
        to: RelocationState,
        /// Who may, in words.
        who: &'static str,
    },
}

impl RelocationState {
    /// Moves from `self` to `to` on behalf of `actor`, for a unit whose model
    /// does (`supported`) or does not support relocation.
    pub fn move_to(
        self,
        to: RelocationState,
        actor: RelocationActor,
        supported: bool,
    ) -> Result<RelocationState, RelocationError> {
        if !supported {
            return Err(RelocationError::NotSupported);
        }
        if self == to {
            return Err(RelocationError::AlreadyIn(to));
        }
        let allowed = who_may(self, to).ok_or(RelocationError::InvalidMove { from: self, to })?;
        if allowed.contains(&actor) {
            Ok(to)
        } else {
            Err(RelocationError::NotAllowed {
                actor,
                from: self,
                to,
                who: describe(allowed),
            })
        }
    }

    /// The states `actor` may move a unit to from `self`.
    pub fn moves_for(self, actor: RelocationActor) -> Vec<RelocationState> {
        use RelocationState::*;
        [Active, Relocating, ActivationRequested]
            .into_iter()
            .filter(|to| who_may(self, *to).is_some_and(|who| who.contains(&actor)))
            .collect()
    }

    /// Whether monitoring is running (false while relocating or waiting).
    pub fn is_monitored(self) -> bool {
        self == RelocationState::Active
    }
}

fn who_may(from: RelocationState, to: RelocationState) -> Option<&'static [RelocationActor]> {
    use RelocationActor::*;
    use RelocationState::*;
    match (from, to) {
        (Active, Relocating) => Some(&[Customer, Installer, MonitoringCentre]),
        (Relocating, ActivationRequested) => Some(&[Customer, Installer]),
        (ActivationRequested, Active) | (Relocating, Active) => Some(&[MonitoringCentre]),
        (ActivationRequested, Relocating) => Some(&[Customer, Installer, MonitoringCentre]),
        _ => None,
    }
}

fn describe(actors: &[RelocationActor]) -> &'static str {
    use RelocationActor::*;
    match actors {
        [MonitoringCentre] => "only the monitoring centre",
        [Customer, Installer] => "the customer or an installer",
        _ => "the customer, an installer or the monitoring centre",
    }
}

impl fmt::Display for RelocationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RelocationState::Active => "active",
            RelocationState::Relocating => "relocating",
            RelocationState::ActivationRequested => "waiting for activation",
        })
    }
}

impl fmt::Display for RelocationActor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RelocationActor::Customer => "the customer",
            RelocationActor::Installer => "an installer",
            RelocationActor::MonitoringCentre => "the monitoring centre",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::RelocationActor::*;
    use super::RelocationState::*;
    use super::*;

    #[test]
    fn the_full_cycle() {
        let s = Active.move_to(Relocating, Customer, true).unwrap();
        let s = s.move_to(ActivationRequested, Customer, true).unwrap();
        let s = s.move_to(Active, MonitoringCentre, true).unwrap();
        assert_eq!(s, Active);
    }

    #[test]
    fn only_the_centre_activates() {
        let err = ActivationRequested
            .move_to(Active, Customer, true)
            .unwrap_err();
        assert!(matches!(err, RelocationError::NotAllowed { .. }));
        assert!(
            err.to_string().contains("only the monitoring centre"),
            "{err}"
        );
        assert!(Relocating.move_to(Active, Installer, true).is_err());
        assert_eq!(
            Relocating.move_to(Active, MonitoringCentre, true),
            Ok(Active)
        );
    }

    #[test]
    fn the_centre_can_send_a_unit_back() {
        assert_eq!(
            ActivationRequested.move_to(Relocating, MonitoringCentre, true),
            Ok(Relocating)
        );
    }

    #[test]
    fn invalid_moves_and_unsupported_models_are_refused() {
        assert_eq!(
            Active.move_to(ActivationRequested, Customer, true),
            Err(RelocationError::InvalidMove {
                from: Active,
                to: ActivationRequested
            })
        );
        assert_eq!(
            Relocating.move_to(Relocating, Customer, true),
            Err(RelocationError::AlreadyIn(Relocating))
        );
        assert_eq!(
            Active.move_to(Relocating, Customer, false),
            Err(RelocationError::NotSupported)
        );
    }

    #[test]
    fn moves_for_lists_exactly_what_move_to_accepts() {
        for from in [Active, Relocating, ActivationRequested] {
            for actor in [Customer, Installer, MonitoringCentre] {
                let offered = from.moves_for(actor);
                for to in [Active, Relocating, ActivationRequested] {
                    assert_eq!(
                        offered.contains(&to),
                        from.move_to(to, actor, true).is_ok(),
                        "{from} -> {to} by {actor}"
                    );
                }
            }
        }
    }
}
