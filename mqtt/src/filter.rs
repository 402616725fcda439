//! A unit's subscription filters, judged against its own prefix.
//!
//! A unit may subscribe only to filters that cannot match anything outside
//! `/tenants/<unit>/`: the first three levels must be literally `""`,
//! `tenants` and the unit's id (no wildcard there), which rules out `#`,
//! `+/#`, `/tenants/+/…`, `$share/…` and every other unit's prefix. Inside
//! its prefix a unit may use wildcards (`/tenants/<unit>/#`). What a
//! granted filter delivers is the set of the unit's down topics it
//! matches, as a bit mask over [`DOWN_KINDS`].

use picket_proto::ids::UnitId;
use picket_proto::topic::{TENANTS, Topic, TopicKind};

/// The topics the hub publishes to a unit, in bit order.
pub const DOWN_KINDS: [TopicKind; 3] = [TopicKind::Config, TopicKind::Command, TopicKind::EventAck];

/// The bit of `kind` in a subscription mask, if it is a down topic.
pub fn down_bit(kind: TopicKind) -> Option<u8> {
    DOWN_KINDS.iter().position(|k| *k == kind).map(|i| 1u8 << i)
}

/// Why a unit's filter is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// Not a valid MQTT filter.
    #[error("topic filter {0:?} is not valid MQTT ('#' only last and alone, '+' alone in a level)")]
    Invalid(String),
    /// It could match topics outside the unit's prefix.
    #[error("topic filter {filter:?} reaches beyond the unit's own prefix {prefix}")]
    Foreign {
        /// The filter.
        filter: String,
        /// The unit's prefix.
        prefix: String,
    },
}

/// Cuts long filters in error messages.
fn shown(filter: &str) -> String {
    filter.chars().take(120).collect()
}

/// Judges `filter` for `unit`: the mask of down topics it delivers, or why
/// it is refused.
pub fn judge(unit: UnitId, filter: &str) -> Result<u8, FilterError> {
    if !is_valid_filter(filter) {
        return Err(FilterError::Invalid(shown(filter)));
    }
    let unit_text = unit.to_string();
    let mut levels = filter.split('/');
    let own = levels.next() == Some("")
        && levels.next() == Some(TENANTS)
        && levels.next() == Some(unit_text.as_str())
        && levels.next().is_some();
    if !own {
        return Err(FilterError::Foreign {
            filter: shown(filter),
            prefix: Topic::unit_prefix(unit),
        });
    }
    Ok(DOWN_KINDS
        .iter()
        .enumerate()
        .filter(|(_, kind)| matches(filter, &Topic::new(unit, **kind).to_string()))
        .fold(0, |mask, (i, _)| mask | (1 << i)))
}

/// Whether `filter` is a syntactically valid MQTT 3.1.1 filter.
pub fn is_valid_filter(filter: &str) -> bool {
    if filter.is_empty() {
        return false;
    }
    let levels: Vec<&str> = filter.split('/').collect();
    levels.iter().enumerate().all(|(i, level)| match *level {
        "#" => i == levels.len() - 1,
        "+" => true,
        other => !other.contains(['#', '+']),
    })
}

/// Whether the valid filter `filter` matches the topic `topic` (MQTT
/// 3.1.1 §4.7; topics starting with `$` are not matched by a leading
/// wildcard).
pub fn matches(filter: &str, topic: &str) -> bool {
    if topic.starts_with('$') && filter.starts_with(['+', '#']) {
        return false;
    }
    let mut topic_levels = topic.split('/');
    for level in filter.split('/') {
        match level {
            "#" => return true,
            "+" => {
                if topic_levels.next().is_none() {
                    return false;
                }
            }
            literal => {
                if topic_levels.next() != Some(literal) {
                    return false;
                }
            }
        }
    }
    topic_levels.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use picket_proto::topic::Direction;

    fn unit(n: u8) -> UnitId {
        UnitId::from_uuid(uuid::Uuid::from_bytes([n; 16]))
    }

    #[test]
    fn down_kinds_are_exactly_the_protocols_down_topics() {
        let down: Vec<TopicKind> = TopicKind::ALL
            .into_iter()
            .filter(|k| k.direction() == Direction::Down)
            .collect();
        assert_eq!(down.len(), DOWN_KINDS.len());
        for kind in down {
            assert!(down_bit(kind).is_some(), "{kind:?}");
        }
        assert_eq!(down_bit(TopicKind::Event), None);
    }

    #[test]
    fn own_topics_and_own_wildcards_are_granted_with_what_they_deliver() {
        let a = unit(1);
        let all = 0b111;
        let cfg = down_bit(TopicKind::Config).unwrap();
        let cmd = down_bit(TopicKind::Command).unwrap();
        assert_eq!(
            judge(a, &Topic::new(a, TopicKind::Config).to_string()),
            Ok(cfg)
        );
        assert_eq!(
            judge(a, &Topic::new(a, TopicKind::Command).to_string()),
            Ok(cmd)
        );
        assert_eq!(judge(a, &format!("/tenants/{a}/#")), Ok(all));
        assert_eq!(judge(a, &format!("/tenants/{a}/v1/+")), Ok(all));
        assert_eq!(judge(a, &format!("/tenants/{a}/+/cmd")), Ok(cmd));
        // Inside the prefix but not a down topic: granted, delivers nothing.
        assert_eq!(
            judge(a, &Topic::new(a, TopicKind::Event).to_string()),
            Ok(0)
        );
        assert_eq!(judge(a, &format!("/tenants/{a}/v2/cmd")), Ok(0));
    }

    #[test]
    fn filters_that_could_reach_other_units_are_refused() {
        let (a, b) = (unit(1), unit(2));
        for filter in [
            "#".to_owned(),
            "+/#".to_owned(),
            "/#".to_owned(),
            "/+/+/v1/cmd".to_owned(),
            "/tenants/#".to_owned(),
            "/tenants/+/v1/evt".to_owned(),
            "$share/g/#".to_owned(),
            format!("/tenants/{b}/v1/cmd"),
            format!("/tenants/{b}/#"),
            format!("/tenants/{a}"),
            format!("tenants/{a}/v1/cmd"),
            format!("/tenants/{a}x/v1/cmd"),
        ] {
            let refused = judge(a, &filter);
            assert!(
                matches!(refused, Err(FilterError::Foreign { .. })),
                "{filter}: {refused:?}"
            );
        }
    }

    #[test]
    fn invalid_filters_are_refused_as_invalid() {
        let a = unit(1);
        for filter in ["", "a/#/b", "a#", "a/b+", "/tenants/x/#/"] {
            assert!(
                matches!(judge(a, filter), Err(FilterError::Invalid(_))),
                "{filter}"
            );
        }
    }

    #[test]
    fn matching_follows_the_spec() {
        assert!(matches("a/b", "a/b"));
        assert!(!matches("a/b", "a/b/c"));
        assert!(!matches("a/b/c", "a/b"));
        assert!(matches("a/+", "a/b"));
        assert!(!matches("a/+", "a/b/c"));
        assert!(matches("a/#", "a"));
        assert!(matches("a/#", "a/b/c"));
        assert!(matches("#", "a/b"));
        assert!(matches("+/+", "/b"));
        assert!(!matches("#", "$SYS/x"));
        assert!(!matches("+/x", "$SYS/x"));
        assert!(matches("$SYS/#", "$SYS/x"));
    }
}
