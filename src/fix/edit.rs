//! Applying edits to a file's lines in place: everything else of the file (comments, order,
//! blank lines, quoting, indentation, CRLF endings) stays as it was. Nothing is re-serialized.

use crate::assessment::Edit;

/// One physical line: its text and its ending (`\n`, `\r\n`, or none at the end of the file).
#[derive(Clone, Debug)]
struct Line {
    text: String,
    ending: String,
    removed: bool,
    before: Vec<String>,
}

/// A file's lines with edits pending.
#[derive(Clone, Debug)]
pub struct Lines {
    lines: Vec<Line>,
    /// The file's own line ending, for inserted lines.
    newline: String,
    json: bool,
}

impl Lines {
    /// Reads a file's text; `json` quotes the values it sets.
    pub fn new(text: &str, json: bool) -> Lines {
        let lines = text
            .split_inclusive('\n')
            .map(|piece| {
                let (text, ending) = match piece.strip_suffix("\r\n") {
                    Some(text) => (text, "\r\n"),
                    None => match piece.strip_suffix('\n') {
                        Some(text) => (text, "\n"),
                        None => (piece, ""),
                    },
                };
                Line {
                    text: text.to_string(),
                    ending: ending.to_string(),
                    removed: false,
                    before: Vec::new(),
                }
            })
            .collect();
        let newline = if text.contains("\r\n") { "\r\n" } else { "\n" }.to_string();
        Lines {
            lines,
            newline,
            json,
        }
    }

    /// Applies `edit` at the 1-based `line`; `Err` says why it could not be.
    pub fn apply(&mut self, line: u32, edit: &Edit) -> Result<(), String> {
        let index = (line as usize)
            .checked_sub(1)
            .filter(|&i| i < self.lines.len())
            .ok_or_else(|| format!("line {line} is not in the file"))?;
        match edit {
            Edit::RemoveLine => {
                self.remove(index);
                Ok(())
            }
            Edit::ReplaceRequirement { from, to } => self.replace(index, from, to),
            Edit::SetValue { key, value } => self.set(index, key, value),
            Edit::UseIndex { url } => self.use_index(index, url),
            Edit::AddMarker { marker } => self.add_marker(index, marker),
        }
    }

    /// `pkg==1 ; python_version < "3.12"  # c` + `sys_platform == "linux"` →
    /// `pkg==1 ; (python_version < "3.12") and sys_platform == "linux"  # c`.
    fn add_marker(&mut self, index: usize, marker: &str) -> Result<(), String> {
        let text = &self.lines[index].text;
        if text.trim_end().ends_with('\\') {
            return Err("a marker on a continued line is added by hand".to_string());
        }
        let quoted = text.trim_start().starts_with(['"', '\'']);
        if quoted {
            return Err("a marker in pyproject.toml is added by hand".to_string());
        }
        let comment = text.find(" #").unwrap_or(text.len());
        let (written, rest) = text.split_at(comment);
        let requirement = written.trim_end();
        let gap = &written[requirement.len()..];
        let edited = match requirement.split_once(';') {
            Some((head, old)) => format!("{} ; ({}) and {marker}", head.trim_end(), old.trim()),
            None => format!("{requirement} ; {marker}"),
        };
        self.lines[index].text = format!("{edited}{gap}{rest}");
        Ok(())
    }

    /// Removes the line and the continuation lines a trailing `\` joins to it.
    fn remove(&mut self, index: usize) {
        let mut at = index;
        while at < self.lines.len() {
            self.lines[at].removed = true;
            if !self.lines[at].text.trim_end().ends_with('\\') {
                break;
            }
            at += 1;
        }
    }

    fn replace(&mut self, index: usize, from: &str, to: &str) -> Result<(), String> {
        let text = &self.lines[index].text;
        let start = text
            .find(from)
            .or_else(|| text.to_lowercase().find(&from.to_lowercase()))
            .ok_or_else(|| format!("`{from}` is not on line {}", index + 1))?;
        let mut edited = text.clone();
        edited.replace_range(start..start + from.len(), to);
        self.lines[index].text = edited;
        Ok(())
    }

    /// `key: value` (YAML) or `"key": value` (JSON): the value is replaced, its quoting kept.
    fn set(&mut self, index: usize, key: &str, value: &str) -> Result<(), String> {
        // A launch script's option (`--nnodes`) is found as the key after its dashes.
        let key = key.trim_start_matches('-');
        let text = self.lines[index].text.clone();
        let (start, end) = value_span(&text, key)
            // torchrun spells its options either way: `--nproc-per-node 8`.
            .or_else(|| value_span(&text, &key.replace('_', "-")))
            .ok_or_else(|| format!("`{key}` has no value on line {}", index + 1))?;
        let old = &text[start..end];
        let quote = old.chars().next().filter(|c| *c == '"' || *c == '\'');
        let plain = matches!(value, "true" | "false" | "null") || value.parse::<f64>().is_ok();
        let new = match quote {
            Some(q) => format!("{q}{value}{q}"),
            None if self.json && !plain => format!("\"{value}\""),
            None => value.to_string(),
        };
        let mut edited = text;
        edited.replace_range(start..end, &new);
        self.lines[index].text = edited;
        Ok(())
    }

    /// Adds `--extra-index-url URL` before a requirement line (or a conda `pip:` entry).
    fn use_index(&mut self, index: usize, url: &str) -> Result<(), String> {
        let text = &self.lines[index].text;
        let option = format!("--extra-index-url {url}");
        let present =
            |l: &Line| l.text.contains(&option) || l.before.iter().any(|b| b.contains(&option));
        if self.lines.iter().any(present) {
            return Ok(());
        }
        let indent: String = text.chars().take_while(|c| c.is_whitespace()).collect();
        let inserted = match text.trim_start().strip_prefix("- ") {
            Some(_) => format!("{indent}- {option}"),
            None if text.trim_start().starts_with('"') => {
                return Err(
                    "an index for a pyproject.toml dependency is set in [tool.uv.index]"
                        .to_string(),
                );
            }
            None => format!("{indent}{option}"),
        };
        self.lines[index].before.push(inserted);
        Ok(())
    }

    /// Replaces a whole-word reference (an included file's name) on every line.
    pub fn rename_reference(&mut self, from: &str, to: &str) -> bool {
        let mut changed = false;
        for line in &mut self.lines {
            for prefix in [
                "-r ",
                "--requirement ",
                "-r ./",
                "--requirement=",
                "-c ",
                "-r",
            ] {
                let needle = format!("{prefix}{from}");
                if let Some(at) = line.text.find(&needle) {
                    let after = at + needle.len();
                    let boundary = line.text[after..]
                        .chars()
                        .next()
                        .is_none_or(|c| c.is_whitespace() || c == '"' || c == '\'');
                    if boundary {
                        line.text.replace_range(at + prefix.len()..after, to);
                        changed = true;
                        break;
                    }
                }
            }
        }
        changed
    }

    /// For each line of [`Lines::render`]'s text, the 1-based line of the original it comes
    /// from; `None` for an inserted line. A report on the edited file points at the original
    /// through this.
    pub fn line_map(&self) -> Vec<Option<u32>> {
        let mut map = Vec::new();
        for (index, line) in self.lines.iter().enumerate() {
            map.extend(line.before.iter().map(|_| None));
            if !line.removed {
                map.push(u32::try_from(index + 1).ok());
            }
        }
        map
    }

    /// The file as edited.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for line in &self.lines {
            for inserted in &line.before {
                out.push_str(inserted);
                out.push_str(&self.newline);
            }
            if !line.removed {
                out.push_str(&line.text);
                out.push_str(&line.ending);
            }
        }
        out
    }
}

/// The byte span of `key`'s value on a line: after `key:` (quoted or not), up to a comment, a
/// comma or a closing brace.
fn value_span(text: &str, key: &str) -> Option<(usize, usize)> {
    let mut search = 0;
    while let Some(found) = text[search..].find(key) {
        let at = search + found;
        search = at + key.len();
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        // A launch script's option: `--key=value` or `--key value` (either spelling of `_`/`-`
        // is found by the caller passing the one the line has).
        if text[..at].ends_with("--") {
            let rest = &text[search..];
            let value = match rest.strip_prefix('=') {
                Some(value) => value,
                None if rest.starts_with([' ', '\t']) => rest.trim_start(),
                None => continue,
            };
            let start = text.len() - value.len();
            let end = start + value.find(char::is_whitespace).unwrap_or(value.len());
            return (end > start).then_some((start, end));
        }
        let rest = text[search..].trim_start_matches(['"', '\'']);
        let Some(after_colon) = rest.trim_start().strip_prefix(':') else {
            continue;
        };
        let value_start = text.len() - after_colon.trim_start().len();
        let value = &text[value_start..];
        let end = if let Some(q) = value.chars().next().filter(|c| *c == '"' || *c == '\'') {
            value[1..].find(q).map_or(value.len(), |close| close + 2)
        } else if value.starts_with('[') {
            // A flow list (Lightning's `devices: [0, 1, 2, 3]`) is one value; one that does not
            // close on its line is not edited.
            value.find(']')? + 1
        } else {
            [" #", ",", "}"]
                .iter()
                .filter_map(|stop| value.find(stop))
                .min()
                .unwrap_or(value.len())
        };
        let end = value_start + value[..end].trim_end().len();
        return (end > value_start).then_some((value_start, end));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(text: &str, line: u32, edit: Edit) -> String {
        let mut lines = Lines::new(text, false);
        lines.apply(line, &edit).unwrap();
        lines.render()
    }

    #[test]
    fn launch_script_options_take_their_new_value() {
        let set = |key: &str| Edit::SetValue {
            key: key.to_string(),
            value: "1".to_string(),
        };
        assert_eq!(
            edit(
                "torchrun \\\n  --nproc_per_node=8 \\\n",
                2,
                set("nproc_per_node")
            ),
            "torchrun \\\n  --nproc_per_node=1 \\\n"
        );
        assert_eq!(
            edit("deepspeed --num_gpus 8 train.py\n", 1, set("num_gpus")),
            "deepspeed --num_gpus 1 train.py\n"
        );
        assert_eq!(
            edit(
                "torchrun --nproc-per-node 8 x.py\n",
                1,
                set("nproc_per_node")
            ),
            "torchrun --nproc-per-node 1 x.py\n"
        );
    }

    #[test]
    fn removal_keeps_everything_else_and_crlf() {
        let text = "# top\r\ntorch\r\nbitsandbytes==0.41.1  # quant\r\n\r\npeft\r\n";
        assert_eq!(
            edit(text, 3, Edit::RemoveLine),
            "# top\r\ntorch\r\n\r\npeft\r\n"
        );
    }

    #[test]
    fn removal_takes_continuation_lines() {
        let text = "a\nb==1 \\\n  --hash=sha256:x\nc\n";
        assert_eq!(edit(text, 2, Edit::RemoveLine), "a\nc\n");
    }

    #[test]
    fn a_requirement_is_replaced_with_its_marker_and_comment_kept() {
        let text = "bitsandbytes ; sys_platform == 'linux'  # q\n";
        let to = Edit::ReplaceRequirement {
            from: "bitsandbytes".into(),
            to: "bitsandbytes>=0.50".into(),
        };
        assert_eq!(
            edit(text, 1, to),
            "bitsandbytes>=0.50 ; sys_platform == 'linux'  # q\n"
        );
    }

    #[test]
    fn values_are_set_in_place_with_their_quoting() {
        let set = |key: &str, value: &str| Edit::SetValue {
            key: key.into(),
            value: value.into(),
        };
        assert_eq!(
            edit(
                "  load_in_4bit: true   # 4-bit\n",
                1,
                set("load_in_4bit", "false")
            ),
            "  load_in_4bit: false   # 4-bit\n"
        );
        assert_eq!(
            edit(
                "optim: \"paged_adamw_8bit\"\n",
                1,
                set("optim", "adamw_torch")
            ),
            "optim: \"adamw_torch\"\n"
        );
        assert_eq!(
            edit("{ bf16: true, fp16: false }\n", 1, set("bf16", "false")),
            "{ bf16: false, fp16: false }\n"
        );
        let mut json = Lines::new(
            "  \"optim\": \"paged_adamw_32bit\",\n  \"tf32\": true\n",
            true,
        );
        json.apply(1, &set("optim", "adamw_torch")).unwrap();
        json.apply(2, &set("tf32", "false")).unwrap();
        assert_eq!(
            json.render(),
            "  \"optim\": \"adamw_torch\",\n  \"tf32\": false\n"
        );
    }

    #[test]
    fn markers_are_added_or_joined_keeping_the_comment() {
        let marker = || Edit::AddMarker {
            marker: "sys_platform == 'linux'".into(),
        };
        assert_eq!(
            edit("nvidia-cudnn-cu12==9.1  # cuDNN\n", 1, marker()),
            "nvidia-cudnn-cu12==9.1 ; sys_platform == 'linux'  # cuDNN\n"
        );
        assert_eq!(
            edit("x ; python_version < '3.12'\n", 1, marker()),
            "x ; (python_version < '3.12') and sys_platform == 'linux'\n"
        );
    }

    #[test]
    fn a_flow_list_is_replaced_whole() {
        let set = Edit::SetValue {
            key: "devices".into(),
            value: "1".into(),
        };
        assert_eq!(
            edit("  devices: [0, 1, 2, 3]  # all\n", 1, set.clone()),
            "  devices: 1  # all\n"
        );
        let mut open = Lines::new("devices: [0,\n  1]\n", false);
        assert!(open.apply(1, &set).is_err());
    }

    #[test]
    fn a_key_inside_another_word_is_not_touched() {
        assert_eq!(value_span("my_bf16: true", "bf16"), None);
        assert_eq!(value_span("bf16: true", "bf16"), Some((6, 10)));
    }

    #[test]
    fn an_index_goes_before_the_requirement_once() {
        let use_index = Edit::UseIndex {
            url: "https://download.pytorch.org/whl/cu126".into(),
        };
        let mut lines = Lines::new("numpy\ntorch>=2.11\n", false);
        lines.apply(2, &use_index).unwrap();
        lines.apply(2, &use_index).unwrap();
        assert_eq!(
            lines.render(),
            "numpy\n--extra-index-url https://download.pytorch.org/whl/cu126\ntorch>=2.11\n"
        );
    }

    #[test]
    fn references_to_renamed_files_follow() {
        let mut lines = Lines::new("  - pip:\n      - -r requirements.txt\n", false);
        assert!(lines.rename_reference("requirements.txt", "requirements-macos.txt"));
        assert_eq!(
            lines.render(),
            "  - pip:\n      - -r requirements-macos.txt\n"
        );
        let mut other = Lines::new("-r requirements.txt.bak\n", false);
        assert!(!other.rename_reference("requirements.txt", "requirements-macos.txt"));
    }

    #[test]
    fn edited_lines_map_back_to_the_original() {
        let mut lines = Lines::new("a\nb\ntorch\n", false);
        lines.apply(1, &Edit::RemoveLine).unwrap();
        let url = "https://download.pytorch.org/whl/cu121".to_string();
        lines.apply(3, &Edit::UseIndex { url }).unwrap();
        assert_eq!(lines.line_map(), [Some(2), None, Some(3)]);
    }

    #[test]
    fn a_line_past_the_end_is_an_error() {
        let mut lines = Lines::new("a\n", false);
        assert!(lines.apply(5, &Edit::RemoveLine).is_err());
    }
}
