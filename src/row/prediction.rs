//! The number an emergency callback would reach once a row's wish is in place, as the
//! run can tell without asking anything more (see `plan::predict`), and what is worth
//! saying about it before it is written.

use super::Warning;
use crate::wire::{EcbnInfo, Selected};
use std::fmt;

/// The quality of a prediction nothing in the run could make.
pub(crate) const UNKNOWN: &str = "unknown";

/// The keys of the summary's `predicted_quality`, in its order.
pub(crate) const QUALITY_KEYS: [&str; 5] = ["RECOMMENDED", "NOT_RECOMMENDED", "INVALID", UNKNOWN, "none"];

/// What is worth saying about a callback number: none at all, an INVALID one (callbacks
/// fall back), a NOT_RECOMMENDED one. The one rule, for today's number (the warning), the
/// predicted one (the forecast) and the page alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Concern {
    NoNumber,
    Invalid,
    NotRecommended,
}

impl Concern {
    /// `none`: the callback reaches no number ([`Prediction::none`]).
    pub(crate) fn of(none: bool, quality: &str) -> Option<Concern> {
        match quality {
            _ if none => Some(Concern::NoNumber),
            "INVALID" => Some(Concern::Invalid),
            "NOT_RECOMMENDED" => Some(Concern::NotRecommended),
            _ => None,
        }
    }
}

/// A callback number as an option block of the ECBN GET tells it (today's, or the one a
/// change would give): the report's `*_effective_number/quality`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Prediction {
    /// Empty when the callback would reach no number, or when it cannot be told.
    pub(crate) number: Box<str>,
    /// As the API grades it (a block's `quality` as read), or [`UNKNOWN`].
    pub(crate) quality: Box<str>,
    /// The callback reaches no number at all (no value, or `effectiveLevel` NONE): the
    /// number is then empty, whatever the block's value.
    pub(crate) none: bool,
    /// The block's `effectiveLevel`, when a block said it.
    pub(crate) level: Option<Box<str>>,
}

impl Default for Prediction {
    fn default() -> Prediction {
        Prediction::unknown()
    }
}

impl Prediction {
    /// Nothing this run read says what the callback would reach.
    pub(crate) fn unknown() -> Prediction {
        Prediction { number: "".into(), quality: UNKNOWN.into(), none: false, level: None }
    }

    /// What an option block of the ECBN GET says its option gives. A number whose level
    /// is NONE is no number (the block's quality still says why).
    pub(crate) fn of_block(block: Option<&EcbnInfo>) -> Prediction {
        let Some(b) = block else { return Prediction::unknown() };
        let level = b.effective_level.as_deref();
        let value = b.effective_value.as_deref().map(str::trim).unwrap_or("");
        let none = value.is_empty() || level == Some("NONE");
        Prediction {
            number: if none { "".into() } else { value.into() },
            quality: b.quality.as_deref().filter(|q| !q.is_empty()).unwrap_or(UNKNOWN).into(),
            none,
            level: level.map(Box::from),
        }
    }

    /// The summary's key for this prediction: `none`, a known quality, else `unknown`.
    pub(crate) fn count_key(&self) -> &'static str {
        if self.none {
            return "none";
        }
        QUALITY_KEYS[..3].iter().copied().find(|k| *k == &*self.quality).unwrap_or(UNKNOWN)
    }

    /// A warning for a row about to be written with `selected`, when the prediction is
    /// none, INVALID or NOT_RECOMMENDED.
    pub(crate) fn warning(&self, selected: Selected) -> Option<Forecast> {
        Some(match Concern::of(self.none, &self.quality)? {
            Concern::NoNumber => Forecast::NoNumber { selected },
            Concern::Invalid => {
                Forecast::FallsBack { selected, to: self.number.clone(), level: self.level_or_fallback() }
            }
            Concern::NotRecommended => Forecast::NotRecommended { number: self.number.clone() },
        })
    }

    /// The warning about today's number.
    pub(crate) fn today(&self) -> Option<Warning> {
        Some(match Concern::of(self.none, &self.quality)? {
            Concern::NoNumber => Warning::NoNumber,
            Concern::Invalid => Warning::FallsBack { to: self.number.clone(), level: self.level_or_fallback() },
            Concern::NotRecommended => Warning::NotRecommended,
        })
    }

    fn level_or_fallback(&self) -> Box<str> {
        self.level.clone().unwrap_or_else(|| "fallback".into())
    }
}

/// What a person should hear before a change is written (the `?` line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Forecast {
    NoNumber { selected: Selected },
    FallsBack { selected: Selected, to: Box<str>, level: Box<str> },
    NotRecommended { number: Box<str> },
}

impl fmt::Display for Forecast {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Forecast::NoNumber { selected } => {
                write!(f, "would have no callback number: {selected} gives none, and nothing to fall back to")
            }
            Forecast::FallsBack { selected, to, level } => write!(
                f,
                "would have an INVALID callback number: {selected} gives no valid number; callbacks would fall back to {to} ({level})"
            ),
            Forecast::NotRecommended { number } => {
                write!(f, "would have a NOT_RECOMMENDED callback number ({number})")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(value: Option<&str>, level: &str, quality: &str) -> EcbnInfo {
        EcbnInfo {
            effective_value: value.map(String::from),
            effective_level: Some(level.into()),
            quality: Some(quality.into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_block_says_what_its_option_gives() {
        let p = Prediction::of_block(Some(&block(Some("+14085550101"), "DIRECT_LINE", "RECOMMENDED")));
        assert_eq!(
            (&*p.number, &*p.quality, p.none, p.count_key()),
            ("+14085550101", "RECOMMENDED", false, "RECOMMENDED")
        );
        assert_eq!(p.warning(Selected::DirectLine), None);

        let none = Prediction::of_block(Some(&block(Some("+14085550101"), "NONE", "INVALID")));
        assert_eq!((&*none.number, &*none.quality, none.none, none.count_key()), ("", "INVALID", true, "none"));
        assert_eq!(none.warning(Selected::LocationEcbn), Some(Forecast::NoNumber { selected: Selected::LocationEcbn }));
        assert!(Prediction::of_block(Some(&block(None, "DIRECT_LINE", "INVALID"))).none);

        let back = Prediction::of_block(Some(&block(Some("+14085550199"), "LOCATION_NUMBER", "INVALID")));
        assert_eq!(back.count_key(), "INVALID");
        let w = back.warning(Selected::DirectLine).unwrap().to_string();
        assert!(w.contains("fall back to +14085550199 (LOCATION_NUMBER)"), "{w}");

        let nr = Prediction::of_block(Some(&block(Some("+14085550150"), "DIRECT_LINE", "NOT_RECOMMENDED")));
        assert!(nr.warning(Selected::LocationMemberNumber).unwrap().to_string().contains("NOT_RECOMMENDED"));
    }

    #[test]
    fn what_cannot_be_told_is_unknown() {
        let p = Prediction::of_block(None);
        assert_eq!((&*p.number, &*p.quality, p.none, p.count_key()), ("", "unknown", false, "unknown"));
        assert_eq!(p.warning(Selected::DirectLine), None);
        // a quality the tool does not know is shown as read, counted as unknown
        let odd = Prediction::of_block(Some(&block(Some("+1"), "DIRECT_LINE", "EXCELLENT")));
        assert_eq!((&*odd.quality, odd.count_key()), ("EXCELLENT", "unknown"));
        let missing =
            Prediction::of_block(Some(&EcbnInfo { effective_value: Some("+1".into()), ..Default::default() }));
        assert_eq!(&*missing.quality, "unknown");
    }
}
