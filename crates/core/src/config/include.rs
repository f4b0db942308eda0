//! `include <path>`, as Redis 7.0 loads it: the included file's directives take effect where
//! the `include` line stands (later lines override them), included files may include others,
//! and a path with wildcards (`*`, `?`, `[`) includes every matching file in alphabetical
//! order — none at all if nothing matches. The rewrite keeps `include` lines as they are.
//!
//! Expansion is textual, before parsing, with a map back to each line's file and line number,
//! so errors name the line of the file they are in, as Redis (which loads each included file
//! as its own text) reports them. A relative include path is taken from the directory the
//! `dir` lines before it lead to (Redis changes into `dir` while loading). Reading files is the
//! caller's (the core does no I/O).

use super::tokenize::{split_args, split_lines};
use std::path::{Path, PathBuf};

/// How deep includes may nest (Redis has no limit and overflows its stack on a cycle).
pub const MAX_DEPTH: usize = 16;

/// A file to include: its path and its text.
pub type Source = (String, String);

/// Config text with its `include` lines replaced by the files they name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expanded {
    /// The text to parse.
    pub text: String,
    /// For each line of `text`: the index in `sources` and the 1-based line number there.
    origins: Vec<(usize, usize)>,
    /// File names; index 0 is the top-level text.
    sources: Vec<String>,
    /// Lines of the top-level text.
    top_lines: usize,
}

impl Expanded {
    /// Where 1-based line `line` of [`Expanded::text`] comes from: the file name and its line
    /// there (lines past the text are counted on in the top-level text).
    pub fn origin(&self, line: usize) -> (&str, usize) {
        match line.checked_sub(1).and_then(|i| self.origins.get(i)) {
            Some(&(source, n)) => (&self.sources[source], n),
            None => (
                &self.sources[0],
                self.top_lines + line.saturating_sub(self.origins.len()),
            ),
        }
    }
}

/// Replaces every `include <pattern>` line of `text` (named `name`) by the files `read`
/// returns for the pattern, recursively. `read` fails with the message to log (Redis's `Fatal
/// error, can't open config file ...`); nesting deeper than [`MAX_DEPTH`] fails too.
pub fn expand_includes(
    text: &str,
    name: &str,
    read: &mut dyn FnMut(&str) -> Result<Vec<Source>, String>,
) -> Result<Expanded, String> {
    let mut expanded = Expanded {
        text: String::with_capacity(text.len()),
        origins: Vec::new(),
        sources: vec![name.to_string()],
        top_lines: split_lines(text).len(),
    };
    let mut expansion = Expansion {
        out: &mut expanded,
        read,
        dir: PathBuf::new(),
    };
    expansion.expand(0, text, 0)?;
    Ok(expanded)
}

/// The state of one expansion.
struct Expansion<'a> {
    out: &'a mut Expanded,
    read: &'a mut dyn FnMut(&str) -> Result<Vec<Source>, String>,
    /// Where the `dir` lines so far lead, relative to the starting directory.
    dir: PathBuf,
}

impl Expansion<'_> {
    fn expand(&mut self, source: usize, text: &str, depth: usize) -> Result<(), String> {
        for (i, line) in split_lines(text).into_iter().enumerate() {
            match Directive::of(line) {
                Some(Directive::Include(pattern)) if depth >= MAX_DEPTH => {
                    return Err(format!(
                        "Fatal error, includes nested more than {MAX_DEPTH} deep at '{pattern}'"
                    ));
                }
                Some(Directive::Include(pattern)) => {
                    let pattern = self.dir.join(pattern);
                    for (path, content) in (self.read)(&pattern.to_string_lossy())? {
                        self.out.sources.push(path);
                        let index = self.out.sources.len() - 1;
                        self.expand(index, &content, depth + 1)?;
                    }
                    continue;
                }
                Some(Directive::Dir(dir)) => self.dir.push(Path::new(&dir)),
                None => {}
            }
            let out = &mut *self.out;
            out.text.push_str(line);
            out.text.push('\n');
            out.origins.push((source, i + 1));
        }
        Ok(())
    }
}

/// A line expansion acts on (with exactly one argument; other forms are left to the parser,
/// which reports them as Redis does).
enum Directive {
    /// `include <pattern>`.
    Include(String),
    /// `dir <path>`.
    Dir(String),
}

impl Directive {
    fn of(line: &str) -> Option<Directive> {
        if line.starts_with('#') {
            return None;
        }
        match split_args(line)?.as_slice() {
            [name, arg] if name.eq_ignore_ascii_case("include") => {
                Some(Directive::Include(arg.clone()))
            }
            [name, arg] if name.eq_ignore_ascii_case("dir") => Some(Directive::Dir(arg.clone())),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(pattern: &str) -> Result<Vec<Source>, String> {
        let file = |path: &str, text: &str| Ok(vec![(path.to_string(), text.to_string())]);
        match pattern {
            "/etc/common.conf" => file(
                "/etc/common.conf",
                "port 26380\ninclude /etc/deeper.conf\nloglevel verbose",
            ),
            "/etc/deeper.conf" => file("/etc/deeper.conf", "# deeper\nbogus"),
            "/etc/conf.d/*.conf" => Ok(vec![
                ("/etc/conf.d/a.conf".into(), "maxclients 10".into()),
                ("/etc/conf.d/b.conf".into(), "maxclients 20".into()),
            ]),
            "/etc/empty/*" => Ok(Vec::new()),
            "/etc/loop.conf" => file("/etc/loop.conf", "include /etc/loop.conf"),
            other => Err(format!(
                "Fatal error, can't open config file '{other}': No such file or directory"
            )),
        }
    }

    #[test]
    fn included_lines_stand_in_place_of_the_include_and_keep_their_origin() {
        let text = "# main\ninclude /etc/common.conf\nport 26381\nINCLUDE \"/etc/conf.d/*.conf\"\ninclude /etc/empty/*\nlast";
        let e = expand_includes(text, "/etc/sentinel.conf", &mut files).unwrap();
        assert_eq!(
            e.text,
            "# main\nport 26380\n# deeper\nbogus\nloglevel verbose\nport 26381\nmaxclients 10\nmaxclients 20\nlast\n"
        );
        assert_eq!(e.origin(1), ("/etc/sentinel.conf", 1));
        assert_eq!(e.origin(2), ("/etc/common.conf", 1));
        assert_eq!(e.origin(4), ("/etc/deeper.conf", 2));
        assert_eq!(e.origin(5), ("/etc/common.conf", 3));
        assert_eq!(e.origin(6), ("/etc/sentinel.conf", 3));
        assert_eq!(e.origin(8), ("/etc/conf.d/b.conf", 1));
        assert_eq!(e.origin(9), ("/etc/sentinel.conf", 6));
        // Past the end: counted on in the top-level text.
        assert_eq!(e.origin(10), ("/etc/sentinel.conf", 7));
    }

    #[test]
    fn relative_includes_follow_the_dir_lines_before_them() {
        let mut asked = Vec::new();
        let mut read = |pattern: &str| {
            asked.push(pattern.to_string());
            let text = if pattern == "/srv/a.conf" {
                "dir sub"
            } else {
                ""
            };
            Ok(vec![(pattern.to_string(), text.to_string())])
        };
        let text =
            "include first.conf\ndir /srv\ninclude a.conf\ninclude b.conf\ninclude /abs.conf";
        let e = expand_includes(text, "main", &mut read).unwrap();
        assert_eq!(
            asked,
            ["first.conf", "/srv/a.conf", "/srv/sub/b.conf", "/abs.conf"]
        );
        // `dir` lines stay for the parser.
        assert_eq!(e.text, "dir /srv\ndir sub\n");
    }

    #[test]
    fn unreadable_files_cycles_and_other_arities() {
        let mut read = files;
        assert_eq!(
            expand_includes("include /nope.conf", "main", &mut read),
            Err(
                "Fatal error, can't open config file '/nope.conf': No such file or directory"
                    .into()
            )
        );
        let cycle = expand_includes("include /etc/loop.conf", "main", &mut read).unwrap_err();
        assert!(cycle.contains("nested more than 16 deep"), "{cycle}");
        // Not an include with one argument: left for the parser to refuse.
        let e = expand_includes("include a b\ninclude\n# include x", "main", &mut read).unwrap();
        assert_eq!(e.text, "include a b\ninclude\n# include x\n");
    }
}
