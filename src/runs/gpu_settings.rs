//! How a run uses cubecl, burn's GPU runtime: how hard it autotunes its kernels and whether
//! burn fuses element-wise operations into them. CPU runs ignore both.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// cubecl's autotune level: how finely it buckets tensor sizes into tuning keys (each new key
/// tunes again: every candidate kernel compiled and timed). Coarser keys tune less often and
/// may pick a kernel tuned for a neighbouring size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Autotune {
    /// Sizes bucketed by powers of 2.5: the fewest tunings.
    Minimal,
    /// cubecl's default: powers of 2.
    #[default]
    Balanced,
    /// Powers of 1.5.
    Extensive,
    /// Every size tuned on its own.
    Full,
}

impl Autotune {
    /// Every level, from the least tuning to the most.
    pub const ALL: [Autotune; 4] = [
        Autotune::Minimal,
        Autotune::Balanced,
        Autotune::Extensive,
        Autotune::Full,
    ];

    /// Its name in `config.json` and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Autotune::Minimal => "minimal",
            Autotune::Balanced => "balanced",
            Autotune::Extensive => "extensive",
            Autotune::Full => "full",
        }
    }
}

impl fmt::Display for Autotune {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not an autotune level.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown autotune level {0:?}: use minimal, balanced, extensive or full")]
pub struct UnknownAutotune(String);

impl FromStr for Autotune {
    type Err = UnknownAutotune;

    fn from_str(s: &str) -> Result<Self, UnknownAutotune> {
        Autotune::ALL
            .into_iter()
            .find(|a| a.name() == s.trim())
            .ok_or_else(|| UnknownAutotune(s.to_string()))
    }
}

/// A run's GPU settings (`config.json`'s `gpu`; older files without it get the defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GpuSettings {
    /// cubecl's autotune level. cubecl reads it once per process: the first GPU run of a
    /// window sets it for the later ones (the log says so when they asked for another).
    pub autotune: Autotune,
    /// burn's kernel fusion (element-wise operations compiled into the kernels around them):
    /// fewer kernel launches and memory passes, more to compile at the start.
    pub fusion: bool,
}

impl Default for GpuSettings {
    fn default() -> Self {
        GpuSettings {
            autotune: Autotune::Balanced,
            fusion: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_by_name_and_settings_default_in_older_files() {
        for level in Autotune::ALL {
            assert_eq!(level.name().parse(), Ok(level));
            assert_eq!(
                serde_json::to_string(&level).unwrap(),
                format!("\"{level}\"")
            );
        }
        assert!(
            "fast"
                .parse::<Autotune>()
                .unwrap_err()
                .to_string()
                .contains("minimal, balanced")
        );
        let settings: GpuSettings = serde_json::from_str(r#"{"fusion": false}"#).unwrap();
        assert_eq!(settings.autotune, GpuSettings::default().autotune);
        assert!(!settings.fusion);
        assert!(serde_json::from_str::<GpuSettings>(r#"{"fusoin": false}"#).is_err());
    }
}
