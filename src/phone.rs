//! Phone numbers as people type them, normalised to `+E.164` with libphonenumber's
//! rules (the `phonenumber` crate): national formats need `default_country`, whose
//! trunk prefix is handled as that country does it (the UK drops its 0, Italy keeps it).

use phonenumber::country::Id;
use phonenumber::metadata::DATABASE;
use phonenumber::{Mode, PhoneNumber};

/// A country for completing national numbers (ISO 3166 alpha-2, e.g. `US`, `IT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Country(Id);

impl Country {
    /// `None` when libphonenumber has no metadata for the code.
    pub(crate) fn parse(code: &str) -> Option<Country> {
        code.trim().to_ascii_uppercase().parse::<Id>().ok().map(Country)
    }
}

impl Default for Country {
    fn default() -> Self {
        Country(Id::US)
    }
}

impl std::fmt::Display for Country {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.as_ref())
    }
}

/// Does the text look like a phone number at all (as opposed to an ID or an email)?
pub(crate) fn looks_like_phone(s: &str) -> bool {
    let s = s.trim();
    let digits = s.chars().filter(|c| c.is_ascii_digit()).count();
    (7..=16).contains(&digits) && s.chars().all(|c| c.is_ascii_digit() || " +-().\u{a0}/".contains(c))
}

/// Normalise to `+E.164`; `None` when the text is not a complete number.
pub(crate) fn normalize(raw: &str, country: Country) -> Option<String> {
    let s = raw.trim();
    if !looks_like_phone(s) {
        return None;
    }
    let national = phonenumber::parse(Some(country.0), s).ok();
    let parsed = complete(national, Some(country)).or_else(|| {
        // `00` is the international call prefix of most of the world, even where the
        // default country dials another one (the US dials 011)
        let rest = s.trim_start_matches([' ', '(']).strip_prefix("00")?;
        complete(phonenumber::parse(None, format!("+{rest}")).ok(), None)
    })?;
    Some(parsed.format().mode(Mode::E164).to_string())
}

/// The number when its length is possible in its country (libphonenumber's lenient
/// check: metadata lags behind new number ranges, so validity is left to the API).
/// The country is the default one for numbers written without their calling code.
fn complete(n: Option<PhoneNumber>, written_in: Option<Country>) -> Option<PhoneNumber> {
    let n = n?;
    let code = n.code().value();
    let meta = match written_in {
        Some(c) if DATABASE.by_id(c.0.as_ref())?.country_code() == code => DATABASE.by_id(c.0.as_ref())?,
        // written with a calling code: the code's main country (+1: the US)
        _ => {
            let regions = DATABASE.by_code(&code)?;
            regions.iter().find(|m| m.is_main_country_for_code()).or(regions.first()).copied()?
        }
    };
    let len = n.national().to_string().len() as u16;
    // libphonenumber's general lengths are the union of its number types' lengths
    let d = meta.descriptors();
    let types = [
        d.fixed_line(),
        d.mobile(),
        d.toll_free(),
        d.premium_rate(),
        d.shared_cost(),
        d.personal_number(),
        d.voip(),
        d.uan(),
    ];
    types.into_iter().flatten().any(|t| t.possible_length().contains(&len)).then_some(n)
}

/// Compare two numbers as the API may spell them (with or without `+`, spaces).
pub(crate) fn same_number(a: &str, b: &str) -> bool {
    let d = |s: &str| s.chars().filter(|c| c.is_ascii_digit()).collect::<String>();
    let (a, b) = (d(a), d(b));
    !a.is_empty() && a == b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(raw: &str, country: &str) -> Option<String> {
        normalize(raw, Country::parse(country).unwrap())
    }

    #[test]
    fn real_national_formats_of_ten_countries() {
        let table = [
            ("US", "(408) 555-0101", "+14085550101"),
            ("US", "408.555.0101", "+14085550101"),
            ("US", "1-408-555-0101", "+14085550101"),
            ("US", "+1 408 555 0101", "+14085550101"),
            ("US", "001 408 555 0101", "+14085550101"),
            ("CA", "613 555 0199", "+16135550199"),
            ("CA", "(416) 555-0123", "+14165550123"),
            ("GB", "020 7946 0000", "+442079460000"),
            ("GB", "07700 900123", "+447700900123"),
            ("DE", "030 12345678", "+493012345678"),
            ("DE", "089 1234567", "+49891234567"),
            ("FR", "01 23 45 67 89", "+33123456789"),
            ("FR", "06 12 34 56 78", "+33612345678"),
            // Italy keeps its leading 0 in the international form
            ("IT", "06 6982 0000", "+390669820000"),
            ("IT", "02 1234 5678", "+390212345678"),
            ("IT", "312 345 6789", "+393123456789"),
            ("AU", "(02) 9876 5432", "+61298765432"),
            ("AU", "0412 345 678", "+61412345678"),
            ("IN", "011 2345 6789", "+911123456789"),
            ("IN", "98765 43210", "+919876543210"),
            ("JP", "03-1234-5678", "+81312345678"),
            ("JP", "090-1234-5678", "+819012345678"),
            ("BR", "(11) 91234-5678", "+5511912345678"),
            ("BR", "(21) 2345-6789", "+552123456789"),
            // a number with its country code works whatever the default country
            ("US", "+44 20 7946 0000", "+442079460000"),
            ("JP", "+1.408.555.0101", "+14085550101"),
            ("GB", "00 1 408 555 0101", "+14085550101"),
        ];
        for (country, raw, want) in table {
            assert_eq!(n(raw, country).as_deref(), Some(want), "{country} {raw}");
        }
    }

    #[test]
    fn rejects_incomplete_numbers_and_other_text() {
        assert_eq!(n("555-0101", "US"), None, "7 digits: a local number without area code");
        assert_eq!(n("01 23 45 67", "FR"), None, "French numbers have 9 digits after the 0");
        assert_eq!(n("alice@example.com", "US"), None);
        assert_eq!(n("Y2lzY29zcGFyazovL3VzL1BFT1BMRS8x", "US"), None);
        assert_eq!(n("call me maybe", "US"), None);
        assert!(Country::parse("ZZ").is_none());
        assert_eq!(Country::parse("it").map(|c| c.to_string()).as_deref(), Some("IT"));
        assert!(same_number("+14085550101", "14085550101"));
        assert!(!same_number("", ""));
    }
}
