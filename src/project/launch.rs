//! Launch scripts: `*.sh` files and Makefiles, read as text and split into shell words (the
//! `shlex` crate, as a POSIX shell splits them; nothing is run, nothing is expanded) for the
//! distributed launches they start:
//!
//! - `torchrun` and `python -m torch.distributed.launch|run`: `--nproc_per_node` (also
//!   `--nproc-per-node`) → `nproc_per_node`, `--nnodes` → `num_nodes`;
//! - `deepspeed`: `--num_gpus` → `num_gpus`, `--num_nodes` → `num_nodes`;
//! - `accelerate launch`: `--num_processes` → `num_processes`, `--num_machines` → `num_nodes`,
//!   `--mixed_precision`, and the `--config_file` it reads;
//! - `CUDA_VISIBLE_DEVICES=0,1` before a command (or exported) → `cuda_visible_devices`, the
//!   number of devices it names;
//! - the training script's own options that are training settings the config reader knows
//!   (`--deepspeed ds.json`, `--bf16`, `--optim paged_adamw_8bit`, …), and the model it names.
//!
//! Each is a [`Setting`] with the line its word is on, so the rules about process counts and
//! settings judge a launch script as they judge a config. A value that is a shell variable
//! (`$NGPUS`, `${NPROC:-8}`, `$(nproc)`) is unknown and yields nothing.

use std::path::Path;

use super::{Evidence, ModelRef, Project, Setting, SettingKeys, SettingValue, model};
use crate::source;

/// A launch script is small; a bigger shell file is a generated installer or data.
const MAX_LAUNCH_BYTES: u64 = 1 << 20;
/// How many physical lines one command may continue over (`\` at the end of a line).
const MAX_CONTINUATION: usize = 200;

/// Whether a file (its lower-case name) is read as a launch script.
pub fn is_launch_file(lower: &str) -> bool {
    lower.ends_with(".sh")
        || lower.ends_with(".bash")
        || lower.ends_with(".mk")
        || lower == "makefile"
        || lower == "gnumakefile"
}

/// Reads one launch script; one that cannot be read is a note.
pub fn read(file: &Path, relative: &str, keys: &SettingKeys, project: &mut Project) {
    if std::fs::metadata(file).is_ok_and(|m| m.len() > MAX_LAUNCH_BYTES) {
        project.notes.push(format!(
            "{relative}: not read (over {MAX_LAUNCH_BYTES} bytes, not a launch script)"
        ));
        return;
    }
    match source::read_text(file) {
        Ok(text) => read_text(&text, relative, keys, project),
        Err(error) => project.notes.push(format!("not read: {error}")),
    }
}

/// A shell word and the 1-based line it is on.
#[derive(Clone, Debug)]
struct Word {
    text: String,
    line: u32,
}

pub(crate) fn read_text(text: &str, relative: &str, keys: &SettingKeys, project: &mut Project) {
    let mut command: Vec<Word> = Vec::new();
    let mut continued = 0;
    for (index, physical) in text.lines().enumerate() {
        let line = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let trimmed = physical.trim_end();
        let (body, continues) = match trimmed.strip_suffix('\\') {
            Some(body) => (body, true),
            None => (trimmed, false),
        };
        // A Makefile recipe line starts with a tab and may be prefixed `@` (silent), `-`
        // (ignore errors) or `+`.
        let body = if command.is_empty() {
            body.trim_start().trim_start_matches(['@', '-', '+'])
        } else {
            body
        };
        match shlex::split(body) {
            Some(words) => command.extend(words.into_iter().map(|text| Word { text, line })),
            // An unbalanced quote (a string spanning lines, or not shell at all): this command
            // is not read.
            None => {
                command.clear();
                continued = 0;
                continue;
            }
        }
        continued += 1;
        if !continues || continued > MAX_CONTINUATION {
            for simple in split_commands(std::mem::take(&mut command)) {
                read_command(&simple, relative, keys, project);
            }
            continued = 0;
        }
    }
    for simple in split_commands(command) {
        read_command(&simple, relative, keys, project);
    }
}

/// Splits a command line at `;`, `&&`, `||`, `|` and `&` into simple commands.
fn split_commands(words: Vec<Word>) -> Vec<Vec<Word>> {
    let mut commands = vec![Vec::new()];
    for mut word in words {
        let separator = |w: &str| matches!(w, ";" | "&&" | "||" | "|" | "&" | "(" | ")");
        if separator(&word.text) {
            commands.push(Vec::new());
            continue;
        }
        let ends = word.text.len() > 1 && word.text.ends_with(';');
        if ends {
            word.text.pop();
        }
        commands.last_mut().expect("never empty").push(word);
        if ends {
            commands.push(Vec::new());
        }
    }
    commands.retain(|c| !c.is_empty());
    commands
}

/// What a launcher's options mean: the option (either spelling), and the setting it is.
type Options = &'static [(&'static [&'static str], &'static str)];

const TORCHRUN: Options = &[
    (&["--nproc_per_node", "--nproc-per-node"], "nproc_per_node"),
    (&["--nnodes"], "num_nodes"),
];
const DEEPSPEED: Options = &[
    (&["--num_gpus", "--num-gpus"], "num_gpus"),
    (&["--num_nodes", "--num-nodes"], "num_nodes"),
];
const ACCELERATE: Options = &[
    (&["--num_processes", "--num-processes"], "num_processes"),
    (&["--num_machines", "--num-machines"], "num_nodes"),
    (
        &["--mixed_precision", "--mixed-precision"],
        "mixed_precision",
    ),
];

/// The launcher options that take no value (so the word after them is not theirs).
const FLAGS: [&str; 10] = [
    "--standalone",
    "--use_env",
    "--use-env",
    "--multi_gpu",
    "--multi-gpu",
    "--use_deepspeed",
    "--use_fsdp",
    "--no_python",
    "--no-python",
    "--cpu",
];

fn read_command(words: &[Word], relative: &str, keys: &SettingKeys, project: &mut Project) {
    let at = |word: &Word| Evidence {
        file: relative.to_string(),
        line: word.line,
    };
    let mut rest = words;
    // Leading assignments (`CUDA_VISIBLE_DEVICES=0,1 torchrun …`, `export X=…`) and wrappers.
    loop {
        let Some((first, tail)) = rest.split_first() else {
            return;
        };
        if let Some((name, value)) = first.text.split_once('=')
            && !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            if name == "CUDA_VISIBLE_DEVICES"
                && let Some(count) = device_count(value)
            {
                project.settings.push(Setting {
                    key: "cuda_visible_devices".to_string(),
                    value: SettingValue::Number(count as f64),
                    evidence: at(first),
                    written: Some(name.to_string()),
                });
            }
            rest = tail;
        } else if matches!(
            first.text.as_str(),
            "export" | "env" | "nohup" | "exec" | "time" | "sudo" | "then" | "do" | "else"
        ) {
            rest = tail;
        } else {
            break;
        }
    }
    let program = rest[0].text.rsplit('/').next().unwrap_or_default();
    let (options, after): (Options, &[Word]) = match program {
        "torchrun" => (TORCHRUN, &rest[1..]),
        "deepspeed" => (DEEPSPEED, &rest[1..]),
        "accelerate" if rest.get(1).is_some_and(|w| w.text == "launch") => (ACCELERATE, &rest[2..]),
        _ if is_python(program) => match python_module(&rest[1..]) {
            Some(("torch.distributed.launch" | "torch.distributed.run", after)) => {
                (TORCHRUN, after)
            }
            Some(("accelerate.commands.launch", after)) => (ACCELERATE, after),
            // `python train.py --bf16 …`: the script's own options.
            None if rest.len() > 1 => {
                script_options(&rest[2..], relative, keys, project);
                return;
            }
            _ => return,
        },
        _ => return,
    };
    // The launcher's options, up to the script it starts; then the script's options.
    let mut index = 0;
    while index < after.len() {
        let word = &after[index];
        let Some(option) = word.text.strip_prefix("--").map(|_| word.text.as_str()) else {
            // The training script (or `-m module`): the rest are its options.
            let script_start = if word.text == "-m" {
                index + 2
            } else {
                index + 1
            };
            script_options(
                after.get(script_start..).unwrap_or_default(),
                relative,
                keys,
                project,
            );
            return;
        };
        let (name, inline) = match option.split_once('=') {
            Some((name, value)) => (name, Some(value.to_string())),
            None => (option, None),
        };
        // A word ending in `.py` is the script, never an option's value.
        let takes_value = inline.is_none()
            && !FLAGS.contains(&name)
            && after
                .get(index + 1)
                .is_some_and(|next| !next.text.ends_with(".py"));
        let value = inline.or_else(|| {
            takes_value
                .then(|| after.get(index + 1).map(|w| w.text.clone()))
                .flatten()
        });
        index += if takes_value { 2 } else { 1 };
        if let Some(&(_, key)) = options
            .iter()
            .find(|(spellings, _)| spellings.contains(&name))
            && let Some(value) = value.as_deref().and_then(literal)
        {
            // The option as written (`--nnodes`), for an edit of `num_nodes` to find.
            project.settings.push(Setting {
                key: key.to_string(),
                value,
                evidence: at(word),
                written: Some(name.to_string()),
            });
        }
    }
}

/// `python`, `python3`, `python3.11`.
fn is_python(program: &str) -> bool {
    program
        .strip_prefix("python")
        .is_some_and(|version| version.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// `python [-u] -m MODULE ARGS…` → (MODULE, ARGS); `None` when the interpreter runs a script.
fn python_module(words: &[Word]) -> Option<(&str, &[Word])> {
    let mut index = 0;
    while let Some(word) = words.get(index) {
        match word.text.as_str() {
            "-m" => {
                let module = words.get(index + 1)?;
                return Some((module.text.as_str(), &words[index + 2..]));
            }
            // Interpreter switches (`-u`, `-O`, `-X dev`).
            "-X" | "-W" => index += 2,
            text if text.starts_with('-') => index += 1,
            _ => return None,
        }
    }
    None
}

/// The training script's options (`--deepspeed ds.json --bf16 --optim paged_adamw_8bit`): those
/// the config reader collects as settings (`keys`, the keys the rules judge), and the model it
/// names.
fn script_options(words: &[Word], relative: &str, keys: &SettingKeys, project: &mut Project) {
    let mut index = 0;
    while index < words.len() {
        let word = &words[index];
        index += 1;
        let Some(option) = word.text.strip_prefix("--") else {
            continue;
        };
        let (name, inline) = match option.split_once('=') {
            Some((name, value)) => (name, Some(value.to_string())),
            None => (option, None),
        };
        let next_is_value = inline.is_none()
            && words
                .get(index)
                .is_some_and(|next| !next.text.starts_with("--"));
        let value = match inline {
            Some(value) => Some(value),
            None if next_is_value => {
                index += 1;
                Some(words[index - 1].text.clone())
            }
            // A bare switch (`--bf16`) is on.
            None => Some("true".to_string()),
        };
        let Some(value) = value.as_deref().and_then(literal) else {
            continue;
        };
        let evidence = Evidence {
            file: relative.to_string(),
            line: word.line,
        };
        if matches!(
            name,
            "model_name_or_path" | "base_model" | "model_name" | "model_id"
        ) && let SettingValue::Text(name) = &value
        {
            project.models.push(ModelRef {
                name: name.clone(),
                params: model::params_from_name(name),
                evidence,
            });
        } else if keys.contains(name) {
            project.settings.push(Setting {
                key: name.to_string(),
                value,
                evidence,
                written: Some(format!("--{name}")),
            });
        }
    }
}

/// A word's value: `8` a number, `true`/`True`/`false` a switch, other text as written. A
/// shell variable or command substitution is unknown (`None`).
fn literal(word: &str) -> Option<SettingValue> {
    if word.is_empty() || word.contains('$') || word.contains('`') {
        return None;
    }
    if let Ok(number) = word.parse::<f64>()
        && number.is_finite()
    {
        return Some(SettingValue::Number(number));
    }
    Some(match word.to_ascii_lowercase().as_str() {
        "true" => SettingValue::Bool(true),
        "false" => SettingValue::Bool(false),
        _ => SettingValue::Text(word.to_string()),
    })
}

/// How many devices `CUDA_VISIBLE_DEVICES` names (`0,1,2` → 3); `None` for a variable or empty.
fn device_count(value: &str) -> Option<usize> {
    if value.is_empty() || value.contains('$') || value.contains('`') {
        return None;
    }
    Some(value.split(',').filter(|d| !d.trim().is_empty()).count())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Project {
        let mut project = Project::default();
        let keys = SettingKeys::Only(
            ["deepspeed", "bf16"]
                .iter()
                .map(|k| k.to_string())
                .collect(),
        );
        read_text(text, "run.sh", &keys, &mut project);
        project
    }

    fn settings(project: &Project) -> Vec<String> {
        project
            .settings
            .iter()
            .map(|s| format!("{} {}={}", s.evidence.line, s.key, s.value))
            .collect()
    }

    #[test]
    fn torchrun_counts_with_either_spelling_and_their_lines() {
        let project = read(
            "#!/bin/bash\n# torchrun --nproc_per_node=99 is a comment\nCUDA_VISIBLE_DEVICES=0,1 torchrun \\\n  --nnodes 2 \\\n  --nproc-per-node 8 \\\n  train.py --deepspeed ds_config.json --bf16 --model_name_or_path meta-llama/Llama-2-7b-hf\n",
        );
        assert_eq!(
            settings(&project),
            [
                "3 cuda_visible_devices=2",
                "4 num_nodes=2",
                "5 nproc_per_node=8",
                "6 deepspeed=ds_config.json",
                "6 bf16=true",
            ]
        );
        assert_eq!(project.models[0].name, "meta-llama/Llama-2-7b-hf");
    }

    #[test]
    fn every_launcher_is_read() {
        let project = read(
            "python -m torch.distributed.launch --nproc_per_node=4 --use_env train.py\npython3 -u -m torch.distributed.run --nproc_per_node 2 train.py\ndeepspeed --num_gpus 8 --num_nodes=1 train.py --deepspeed ds.json\naccelerate launch --config_file fsdp.yaml --num_processes=4 --mixed_precision bf16 train.py\nexport CUDA_VISIBLE_DEVICES=0,1,2,3\ncd src && torchrun --standalone --nproc_per_node=8 main.py; echo done\n",
        );
        assert_eq!(
            settings(&project),
            [
                "1 nproc_per_node=4",
                "2 nproc_per_node=2",
                "3 num_gpus=8",
                "3 num_nodes=1",
                "3 deepspeed=ds.json",
                "4 num_processes=4",
                "4 mixed_precision=bf16",
                "5 cuda_visible_devices=4",
                "6 nproc_per_node=8",
            ]
        );
    }

    #[test]
    fn shell_variables_stay_unknown_and_nothing_is_expanded() {
        let project = read(
            "NGPUS=${NGPUS:-8}\ntorchrun --nproc_per_node=$NGPUS --nnodes \"$NNODES\" train.py\ndeepspeed --num_gpus `nvidia-smi -L | wc -l` train.py\nCUDA_VISIBLE_DEVICES=$DEVICES python train.py\n",
        );
        assert_eq!(settings(&project), Vec::<String>::new());
    }

    #[test]
    fn makefile_recipes_and_broken_quotes() {
        let project = read(
            "train:\n\t@torchrun --nproc_per_node=2 train.py\nbroken:\n\techo \"unterminated\n\t-accelerate launch --num_processes 3 train.py\n",
        );
        assert_eq!(
            settings(&project),
            ["2 nproc_per_node=2", "5 num_processes=3"]
        );
    }

    #[test]
    fn launch_files_are_named_so() {
        for name in [
            "train.sh",
            "makefile",
            "gnumakefile",
            "rules.mk",
            "run.bash",
        ] {
            assert!(is_launch_file(name), "{name}");
        }
        assert!(!is_launch_file("train.py"));
    }
}
