//! `config.toml` mapped onto the job's options: a key is an option's ID in the table
//! its help heading names, and its value passes the option's own parser, so a value
//! means the same in the file as on the command line. Two keys are no option: `[notify]`
//! `token_env` and `on` ([`FileOnly`]).

use super::options::table_of;
use super::parse::refusal;
use crate::config::{ConfigError, NotifyOn};
use std::path::Path;

/// The file's keys that are not options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FileOnly {
    /// `[notify] token_env`: the variable holding the notification's (a bot's) token.
    pub(crate) notify_token_env: Option<String>,
    /// `[notify] on`.
    pub(crate) notify_on: Option<NotifyOn>,
}

/// What a configuration file says.
#[derive(Debug, Default)]
pub(super) struct FromFile {
    /// (option ID, value as text), for the options' parsers.
    pub(super) given: Vec<(String, String)>,
    pub(super) only: FileOnly,
}

/// Read `path` (absent and not `required`: nothing); `options` is the job's options.
pub(super) fn load(path: &Path, required: bool, options: &clap::Command) -> Result<FromFile, ConfigError> {
    let shown = path.display().to_string();
    let fail = |message: String| ConfigError::File { path: shown.clone(), message };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => return Ok(FromFile::default()),
        Err(e) => return Err(fail(e.to_string())),
    };
    let doc: toml::Table = toml::from_str(&text).map_err(|e| fail(e.to_string().trim().replace('\n', " ")))?;
    let mut out = FromFile::default();
    for (table, keys) in doc {
        let toml::Value::Table(keys) = keys else {
            return Err(fail(format!("unknown key `{table}` (keys belong in [webex], [limits], [run] or [notify])")));
        };
        for (key, value) in keys {
            let at = format!("[{table}] {key}");
            if table == "notify" && only(&mut out.only, &key, &value).map_err(|e| fail(format!("{at}: {e}")))? {
                continue;
            }
            let key_of = |a: &&clap::Arg| a.get_id() == key.as_str() && table_of(a.get_help_heading()).is_some();
            let Some(arg) = options.get_arguments().find(key_of) else {
                return Err(fail(format!("unknown key `{key}` in [{table}]")));
            };
            let home = table_of(arg.get_help_heading()).unwrap_or_default();
            if home != table {
                return Err(fail(format!("unknown key `{key}` in [{table}] (it belongs in [{home}])")));
            }
            let text = scalar(&value).ok_or_else(|| fail(format!("{at}: expected a single value, got {value}")))?;
            if let Some(why) = refusal(arg, text.as_ref()) {
                return Err(fail(format!("{at}: invalid value `{text}`: {why}")));
            }
            out.given.push((key, text));
        }
    }
    Ok(out)
}

/// A key of `[notify]` that is no option, read into `only`; false for any other key.
fn only(only: &mut FileOnly, key: &str, value: &toml::Value) -> Result<bool, String> {
    match key {
        "token_env" => only.notify_token_env = Some(value.as_str().ok_or("expected a string")?.to_string()),
        "on" => only.notify_on = Some(value.clone().try_into().map_err(|e: toml::de::Error| e.message().to_string())?),
        _ => return Ok(false),
    }
    Ok(true)
}

/// A TOML value as the command line would spell it; `None` for arrays and tables.
fn scalar(v: &toml::Value) -> Option<String> {
    match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        toml::Value::Datetime(d) => Some(d.to_string()),
        toml::Value::Array(_) | toml::Value::Table(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::JobArgs;
    use clap::Args;

    fn options() -> clap::Command {
        JobArgs::augment_args(clap::Command::new("t").no_binary_name(true))
    }

    fn load_text(text: &str) -> Result<FromFile, String> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, text).unwrap();
        load(&p, true, &options()).map_err(|e| e.to_string())
    }

    #[test]
    fn keys_are_options_in_their_own_table() {
        let f = load_text("[limits]\nrate = \"auto\"\nconcurrency = 3\n[run]\nskip_invalid = true\n[notify]\nroom_id = \"R\"\non = \"failure\"\ntoken_env = \"BOT\"\n").unwrap();
        let mut given: Vec<(&str, &str)> = f.given.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        given.sort();
        assert_eq!(given, [("concurrency", "3"), ("rate", "auto"), ("room_id", "R"), ("skip_invalid", "true")]);
        assert_eq!(f.only.notify_on, Some(NotifyOn::Failure));
        assert_eq!(f.only.notify_token_env.as_deref(), Some("BOT"));
    }

    #[test]
    fn a_wrong_key_or_value_names_the_key_and_the_file() {
        for (text, says) in [
            ("[limits]\nrate = 5\nbogus_key = 1\n", "unknown key `bogus_key` in [limits]"),
            ("[limits]\nmax_failures = 1\n", "it belongs in [run]"),
            ("rate = 5\n", "unknown key `rate`"),
            ("[limits]\nconcurrency = 0\n", "[limits] concurrency: invalid value `0`"),
            ("[run]\ndefault_country = \"XX\"\n", "not a country code"),
            ("[limits]\nrate = [1]\n", "expected a single value"),
            ("[notify]\non = \"sometimes\"\n", "[notify] on: unknown variant"),
            ("[limits]\nlimit = 3\n", "unknown key `limit`"),
        ] {
            let e = load_text(text).unwrap_err();
            assert!(e.contains(says) && e.contains("c.toml"), "{text}: {e}");
        }
    }

    /// The shipped `config.toml` documents the table: every key in its own table, with
    /// its variable, and each key it sets at its default.
    #[test]
    fn the_shipped_config_lists_every_key_at_its_default() {
        let text = include_str!("../../config.toml");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.toml");
        std::fs::write(&p, text).unwrap();
        let set = load(&p, true, &options()).unwrap().given;
        let table_text = |t: &str| {
            let start = text.find(&format!("\n[{t}]\n")).unwrap_or_else(|| panic!("no [{t}]"));
            let rest = &text[start + 1..];
            &rest[..rest[1..].find("\n[").map_or(rest.len(), |i| i + 1)]
        };
        let cmd = crate::cli::command();
        let plan = cmd.get_subcommands().find(|c| c.get_name() == "plan").unwrap();
        for arg in plan.get_arguments() {
            let Some(table) = table_of(arg.get_help_heading()) else { continue };
            let key = arg.get_id().as_str();
            let section = table_text(table);
            assert!(section.contains(&format!("\n{key} = ")) || section.contains(&format!("# {key} = ")), "{key}");
            let var = arg.get_env().unwrap().to_string_lossy().to_string();
            assert!(section.contains(&var), "{key}: {var}");
            if let Some((_, v)) = set.iter().find(|(k, _)| k == key) {
                let default: Vec<_> = arg.get_default_values().iter().map(|d| d.to_string_lossy()).collect();
                let none = default.is_empty() && v.is_empty(); // `org_id = ""`: none
                assert!(none || default == [v.as_str()], "{key}: {v} is not the default {default:?}");
            }
        }
    }
}
