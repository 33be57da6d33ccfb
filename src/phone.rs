//! Phone numbers as people type them, normalised to `+E.164`.
//!
//! Accepts `+1 408 555 0101`, `14085550101`, `(408) 555-0101`, `001-408-555-0101`,
//! `+1.408.555.0101`. Numbers without a country code take `default_country`'s calling code.

/// Calling codes for the countries whose national format we can complete. A number
/// written with `+` or `00` works for every country.
fn calling_code(country: &str) -> Option<(&'static str, usize)> {
    // (calling code, usual national significant number length; 0 = any)
    Some(match country.to_ascii_uppercase().as_str() {
        "US" | "CA" => ("1", 10),
        "GB" | "UK" => ("44", 0),
        "DE" => ("49", 0),
        "FR" => ("33", 9),
        "NL" => ("31", 9),
        "BE" => ("32", 0),
        "ES" => ("34", 9),
        "IT" => ("39", 0),
        "CH" => ("41", 9),
        "AT" => ("43", 0),
        "SE" => ("46", 0),
        "NO" => ("47", 8),
        "DK" => ("45", 8),
        "IE" => ("353", 0),
        "AU" => ("61", 9),
        "NZ" => ("64", 0),
        "JP" => ("81", 0),
        "IN" => ("91", 10),
        "BR" => ("55", 0),
        "MX" => ("52", 10),
        "SG" => ("65", 8),
        _ => return None,
    })
}

/// Whether `default_country` is one this module can complete numbers for.
pub fn known_country(country: &str) -> bool {
    calling_code(country).is_some()
}

/// Does the text look like a phone number at all (as opposed to an ID or an email)?
pub fn looks_like_phone(s: &str) -> bool {
    let s = s.trim();
    let digits = s.chars().filter(|c| c.is_ascii_digit()).count();
    (7..=16).contains(&digits)
        && s.chars()
            .all(|c| c.is_ascii_digit() || " +-().\u{a0}/".contains(c))
}

/// Normalise to `+E.164`; `None` when the text is not a usable number.
pub fn normalize(raw: &str, default_country: &str) -> Option<String> {
    let s = raw.trim();
    if !looks_like_phone(s) {
        return None;
    }
    let plus = s.starts_with('+');
    let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
    let e164 = if plus {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_string()
    } else {
        let (code, len) = calling_code(default_country)?;
        if len > 0 && digits.len() == len {
            format!("{code}{digits}")
        } else if digits.starts_with(code) && (len == 0 || digits.len() == len + code.len()) {
            digits
        } else if let Some(national) = digits.strip_prefix('0') {
            // trunk prefix, e.g. UK 020 7946 0000
            format!("{code}{national}")
        } else if len == 0 {
            format!("{code}{digits}")
        } else {
            return None;
        }
    };
    (8..=15).contains(&e164.len()).then(|| format!("+{e164}"))
}

/// Compare two numbers as the API may spell them (with or without `+`, spaces).
pub fn same_number(a: &str, b: &str) -> bool {
    let d = |s: &str| s.chars().filter(|c| c.is_ascii_digit()).collect::<String>();
    let (a, b) = (d(a), d(b));
    !a.is_empty() && a == b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_formats() {
        for s in [
            "+1 408 555 0101",
            "14085550101",
            "(408) 555-0101",
            "408.555.0101",
            "001 408 555 0101",
            "+1-408-555-0101",
        ] {
            assert_eq!(normalize(s, "US").as_deref(), Some("+14085550101"), "{s}");
        }
        assert_eq!(normalize("020 7946 0000", "GB").as_deref(), Some("+442079460000"));
        assert_eq!(normalize("+44 20 7946 0000", "US").as_deref(), Some("+442079460000"));
    }

    #[test]
    fn rejects() {
        assert_eq!(normalize("555-0101", "US"), None);
        assert_eq!(normalize("alice@example.com", "US"), None);
        assert_eq!(normalize("Y2lzY29zcGFyazovL3VzL1BFT1BMRS8x", "US"), None);
        assert_eq!(normalize("4085550101", "ZZ"), None);
        assert!(same_number("+14085550101", "14085550101"));
        assert!(!same_number("", ""));
    }
}
