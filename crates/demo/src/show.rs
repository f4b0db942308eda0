//! Terminal output: a progress line rewritten in place (only on a terminal) and permanent lines
//! printed above it.

use std::io::{IsTerminal, Write};

/// Stdout with an optional one-line progress display at the bottom.
pub struct Screen {
    tty: bool,
    progress_shown: bool,
}

impl Screen {
    /// Progress lines are drawn only when stdout is a terminal (logs and pipes get just the
    /// permanent lines).
    pub fn new() -> Screen {
        Screen {
            tty: std::io::stdout().is_terminal(),
            progress_shown: false,
        }
    }

    /// Print a permanent line (clearing the progress line first).
    pub fn line(&mut self, text: &str) {
        self.clear();
        println!("{text}");
    }

    /// Replace the progress line with `text`.
    pub fn progress(&mut self, text: &str) {
        if self.tty {
            print!("\r\x1b[2K{text}");
            let _ = std::io::stdout().flush();
            self.progress_shown = true;
        }
    }

    /// Erase the progress line.
    pub fn clear(&mut self) {
        if self.progress_shown {
            print!("\r\x1b[2K");
            let _ = std::io::stdout().flush();
            self.progress_shown = false;
        }
    }
}

/// `text` with each `(from, to)` replacement applied (sentinel ids shown as warden names).
pub fn rename(text: &str, names: &[(String, String)]) -> String {
    names
        .iter()
        .filter(|(from, _)| !from.is_empty())
        .fold(text.to_string(), |acc, (from, to)| acc.replace(from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_sentinel_ids() {
        let names = vec![
            ("abc123".to_string(), "warden-2".to_string()),
            (String::new(), "never".to_string()),
        ];
        assert_eq!(
            rename("+vote-for-leader abc123 1", &names),
            "+vote-for-leader warden-2 1"
        );
    }
}
